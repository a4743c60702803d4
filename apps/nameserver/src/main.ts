console.log('nameserver');
