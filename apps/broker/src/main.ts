console.log('broker');
