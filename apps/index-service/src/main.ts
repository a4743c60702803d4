console.log('index-service');
