console.log('ha-replicator');
