import path from 'node:path';
import { ApogeeError } from './apogee-error';
import { ERROR_CODES } from './error-codes';
import { loadMessagingService, okV2Status, rocketMqProtoDir, v2StatusOf } from './rocketmq-v2';

describe('apache.rocketmq.v2 from the official client package', () => {
  it('loads MessagingService from the installed rocketmq-client-nodejs, not from a copy', () => {
    expect(rocketMqProtoDir()).toBe(path.join(path.dirname(require.resolve('rocketmq-client-nodejs/package.json')), 'proto'));
    const service = loadMessagingService().service;
    expect(Object.keys(service)).toEqual(
      expect.arrayContaining(['QueryRoute', 'Telemetry', 'Heartbeat', 'SendMessage', 'NotifyClientTermination', 'ReceiveMessage']),
    );
    expect(service.Telemetry.requestStream && service.Telemetry.responseStream).toBe(true);
    expect(service.QueryRoute.path).toBe('/apache.rocketmq.v2.MessagingService/QueryRoute');
    expect(loadMessagingService()).toBe(loadMessagingService()); // loaded once
  });

  it('builds v2 statuses through the error registry', () => {
    expect(okV2Status()).toEqual({ code: 'OK', message: 'OK' });
    expect(v2StatusOf(new ApogeeError('MISSING_MESSAGE_ID', 'no id'))).toEqual({ code: 'ILLEGAL_MESSAGE_ID', message: 'no id' });
    expect(v2StatusOf(new Error('secret detail'))).toEqual({ code: 'INTERNAL_SERVER_ERROR', message: 'internal error' });
  });

  it('encodes a Status with a code name the proto knows', () => {
    const response = loadMessagingService().service.Heartbeat.responseSerialize({ status: v2StatusOf(new ApogeeError('EMPTY_MESSAGE_BODY', 'x')) });
    const decoded = loadMessagingService().service.Heartbeat.responseDeserialize(response) as { status: { code: string } };
    expect(decoded.status.code).toBe('MESSAGE_BODY_EMPTY');
  });

  it('maps every registered error to a Code of the official proto', () => {
    const { responseSerialize, responseDeserialize } = loadMessagingService().service.Heartbeat;
    for (const { v2Code } of Object.values(ERROR_CODES)) {
      const decoded = responseDeserialize(responseSerialize({ status: { code: v2Code, message: '' } })) as { status: { code: string } };
      expect(decoded.status.code).toBe(v2Code);
    }
  });
});
