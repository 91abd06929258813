// Doctor checks that talk to the outside: the transport (MQTT broker / AWS IoT Core endpoint with the
// certificate / the nucleus IPC socket) connects and takes the job topics' subscriptions, and, when
// enrollment is on, AWS credentials resolve and DescribeJob answers for the configured job.
import { DescribeJobCommand } from '@aws-sdk/client-iot';
import type { Config } from '../../config/schema.js';
import { describeError, hasErrorName } from '../../enroll/aws-errors.js';
import { createIotClient, endpointDescription } from '../../enroll/control-plane.js';
import { subscribedTopics } from '../../jobs/topics.js';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../log.js';
import { createTransport } from '../../transport/index.js';
import { type CheckResult, failed, messageOf, passed, within } from './check.js';

function transportTarget(config: Config): string {
  const t = config.transport;
  switch (t.kind) {
    case 'mqtt':
      return `MQTT broker ${t.url}`;
    case 'iot-core':
      return `AWS IoT Core ${t.endpoint}:${t.port} with certificate ${t.certFile}`;
    case 'greengrass-ipc':
      return 'Greengrass nucleus IPC socket';
  }
}

function transportFix(config: Config): string {
  switch (config.transport.kind) {
    case 'mqtt':
      return 'check transport.url, that the broker runs and this device reaches it (firewall, TLS files, username/password)';
    case 'iot-core':
      return "check transport.endpoint (aws iot describe-endpoint --endpoint-type iot:Data-ATS), the certificate is ACTIVE and attached to the thing, and the device's clock";
    case 'greengrass-ipc':
      return 'run ggjobs as a Greengrass component (the nucleus sets AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT and SVCUID)';
  }
}

/** A logger that keeps only the last warning or error the transport logged (why it cannot connect). */
function lastProblemLogger(): { log: Logger; last: () => string | undefined } {
  let last: string | undefined;
  const sink = new Writable({
    write(chunk, _encoding, done) {
      try {
        const entry = JSON.parse(String(chunk)) as Record<string, unknown>;
        const why = entry.err ?? entry.error ?? entry.reason;
        last = `${String(entry.msg)}${why === undefined ? '' : `: ${String(why)}`}`;
      } catch {
        // not a log line
      }
      done();
    },
  });
  return { log: createLogger({ level: 'warn', destination: sink, pretty: false }), last: () => last };
}

export async function checkTransport(config: Config, timeoutMs: number): Promise<CheckResult[]> {
  const target = transportTarget(config);
  const problems = lastProblemLogger();
  const transport = createTransport(config.transport, { thingName: config.thingName, log: problems.log });
  const ids = { thingName: config.thingName, jobId: config.jobId, namespaceId: config.namespaceId };
  const topics = subscribedTopics(ids, config.listen.notifyTopics);
  // The backends keep retrying a refused connection; the last refusal says why.
  let lastError: Error | undefined;
  transport.on('disconnected', (event) => {
    lastError = event.error ?? lastError;
  });
  try {
    try {
      await within(transport.connect(), timeoutMs, `no connection within ${timeoutMs / 1000} s`);
    } catch (err) {
      const last = lastError?.message ?? problems.last();
      const why = last && last !== messageOf(err) ? ` (last: ${last})` : '';
      return [failed('transport reachable', `${target}: ${messageOf(err)}${why}`, transportFix(config))];
    }
    const results = [passed('transport reachable', `${target} connected`)];
    try {
      for (const topic of topics) {
        await within(
          transport.subscribe(topic, () => {}),
          timeoutMs,
          `subscribing to ${topic} not acknowledged within ${timeoutMs / 1000} s`,
        );
      }
      results.push(passed('job topics subscribable', `${topics.length} topics, e.g. ${topics.at(-1)}`));
    } catch (err) {
      results.push(
        failed(
          'job topics subscribable',
          messageOf(err),
          config.transport.kind === 'greengrass-ipc'
            ? "the recipe's accessControl must allow aws.greengrass#SubscribeToIoTCore on $aws/things/{iot:thingName}/jobs/*"
            : "allow iot:Subscribe and iot:Receive on the thing's $aws/things/THING/jobs/ topics in the policy (or the broker ACL)",
        ),
      );
    }
    return results;
  } finally {
    await transport.close().catch(() => {});
  }
}

export async function checkJob(config: Config, timeoutMs: number): Promise<CheckResult[]> {
  const client = await createIotClient(config);
  try {
    let source = 'default credential provider chain';
    try {
      const credentials = await within(
        client.config.credentials(),
        timeoutMs,
        `no credentials within ${timeoutMs / 1000} s`,
      );
      const from = (credentials as { $source?: Record<string, unknown> }).$source;
      if (from && Object.keys(from).length > 0) source = Object.keys(from).join(', ');
    } catch (err) {
      return [
        failed(
          'AWS credentials resolvable',
          messageOf(err).split('\n')[0] ?? '',
          'as a Greengrass component: depend on aws.greengrass.TokenExchangeService and allow iot:DescribeJob, iot:AssociateTargetsWithJob in its role; elsewhere: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or turn enrollment off (enroll.enabled false)',
        ),
      ];
    }
    const results = [passed('AWS credentials resolvable', `found (${source})`)];
    const where = endpointDescription(config);
    let job;
    try {
      const out = await client.send(new DescribeJobCommand({ jobId: config.jobId }), {
        abortSignal: AbortSignal.timeout(timeoutMs),
      });
      job = out.job;
    } catch (err) {
      const notFound = hasErrorName(err, 'ResourceNotFoundException');
      results.push(
        failed(
          'job answers DescribeJob',
          notFound
            ? `job "${config.jobId}" not found at ${where} (region ${config.region})`
            : `${where}: ${describeError(err)}`,
          notFound
            ? 'check jobId and region, or create the continuous job (README "Enrolling (for operators)")'
            : 'check the network route to the endpoint and that the credentials may call iot:DescribeJob',
        ),
      );
      return results;
    }
    const namespace = job?.namespaceId ?? '(none)';
    const facts = `namespace ${namespace}, ${job?.targetSelection ?? '?'}, ${job?.status ?? '?'}`;
    const problems: string[] = [];
    if (job?.namespaceId !== config.namespaceId)
      problems.push(`namespace is ${namespace}, configured namespaceId is ${config.namespaceId}`);
    if (job?.targetSelection !== 'CONTINUOUS') problems.push('job is not CONTINUOUS');
    if (job?.status !== 'IN_PROGRESS') problems.push('job is not IN_PROGRESS');
    results.push(
      problems.length === 0
        ? passed('job answers DescribeJob', `${config.jobId}: ${facts}`)
        : failed(
            'job answers DescribeJob',
            `${config.jobId}: ${facts}; ${problems.join('; ')}`,
            "set namespaceId to the job's namespace, or point jobId at a CONTINUOUS job in that namespace that is IN_PROGRESS",
          ),
    );
    return results;
  } finally {
    client.destroy();
  }
}
