// AWS's own device SDK against the local stack: aws-iot-device-sdk-v2's IotJobsClientv2 over an MQTT
// 3.1.1 connection of the aws-crt client. The crt connection builder always adds a TLS context; the
// local broker's plain port is TCP, so the built config's `tls_ctx` is dropped (it is optional, and
// without it the crt connects over plain TCP).
import sdk, { type iotjobs as jobsTypes } from 'aws-iot-device-sdk-v2';
import type { LocalStack } from '../../src/local/index.js';

const { iot, iotjobs, mqtt } = sdk;

export interface DeviceSdkJobs {
  jobs: jobsTypes.IotJobsClientv2;
  close(): Promise<void>;
}

/** A connected IotJobsClientv2 on the stack's plain MQTT port, as client `clientId`. */
export async function connectDeviceSdkJobs(stack: LocalStack, clientId: string): Promise<DeviceSdkJobs> {
  const { hostname, port } = new URL(stack.mqttUrl);
  const config = {
    ...iot.AwsIotMqttConnectionConfigBuilder.new_default_builder()
      .with_endpoint(hostname)
      .with_port(Number(port))
      .with_client_id(clientId)
      .with_clean_session(true)
      .with_keep_alive_seconds(30)
      .build(),
    tls_ctx: undefined,
  };
  const connection = new mqtt.MqttClient().new_connection(config);
  await connection.connect();
  const jobs = iotjobs.IotJobsClientv2.newFromMqtt311(connection, {
    maxRequestResponseSubscriptions: 8,
    maxStreamingSubscriptions: 4,
    operationTimeoutInSeconds: 20,
  });
  return {
    jobs,
    async close() {
      jobs.close();
      await connection.disconnect();
    },
  };
}

/** The modeled `/rejected` body of a failed IotJobsClientv2 request. */
export async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    const modeled = (err as { modeledError?: Record<string, unknown> }).modeledError;
    if (modeled) return modeled;
    throw err;
  }
  throw new Error('the request was accepted');
}
