// `npm start` is `ggjobs demo`: the main job end to end on the embedded local stack, through the
// same agent code a device runs. This is what a new user sees first.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from './run-cli.js';

let workDir: string | undefined;

afterEach(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  workDir = undefined;
});

describe('ggjobs demo (npm start)', () => {
  it('enrolls, runs the continuous namespaced job once and reads SUCCEEDED back from the control plane', async () => {
    const run = await runCli(['demo'], 120_000);
    expect(run.code, run.stderr).toBe(0);

    const configPath = /config file: (\S+)/.exec(run.stdout)?.[1];
    expect(configPath).toBeDefined();
    workDir = dirname(configPath!);
    const config = parse(readFileSync(configPath!, 'utf8'));
    expect(config).toMatchObject({
      jobId: 'demo-site-maintenance',
      namespaceId: 'demo-ops',
      enroll: { enabled: true, thingGroupName: 'demo-site-a' },
      transport: { kind: 'mqtt' },
    });

    // progress, in the order it happens
    const milestones = [
      /listening on the namespaced job topics/,
      /execution #1: IN_PROGRESS accepted/,
      /step 1 "Say-Hello" succeeded/,
      /step 2 "Download-Payload" succeeded/,
      /step 3 "Apply-Update" starting/,
      // the slow step's progress heartbeats carry the handler's ::progress text
      /heartbeat: step 3\/3 "Apply-Update" running \d+s, progress "applying part \d of 3"/,
      /step 3 "Apply-Update" succeeded/,
      /execution #1: final status accepted by the service/,
      /summary \(DescribeJobExecution through the control plane\)/,
      // claim + each accepted heartbeat + final status
      /execution #1: SUCCEEDED \(version ([4-9]|\d\d)\)/,
    ];
    let from = 0;
    for (const milestone of milestones) {
      const at = run.stdout.slice(from).search(milestone);
      expect(at, `${milestone} after offset ${from} in:\n${run.stdout}`).toBeGreaterThanOrEqual(0);
      from += at;
    }
    expect(run.stdout.match(/step 1 "Say-Hello" starting/g)).toHaveLength(1);
    // Enroll runs while the agent already listens: its line comes after "listening", wherever the
    // execution its association created has got to by then.
    const listeningAt = run.stdout.search(/listening on the namespaced job topics/);
    const enrolledAt = run.stdout.search(
      /enrolled: thing group arn:aws:iot:us-east-1:123456789012:thinggroup\/demo-site-a associated/,
    );
    expect(enrolledAt, run.stdout).toBeGreaterThan(listeningAt);
    expect(run.stdout).toMatch(/agent ready: enrolled and listening \(mqtt transport\)/);

    // the download step left a verified file behind
    const downloaded = /downloaded file: (\S+) \((\d+) bytes, expected sha256 ([0-9a-f]{64})\)/.exec(
      run.stdout,
    );
    expect(downloaded, run.stdout).not.toBeNull();
    const content = readFileSync(downloaded![1]!);
    expect(content.length).toBe(Number(downloaded![2]));
    expect(content.length).toBeGreaterThan(0);
    expect(createHash('sha256').update(content).digest('hex')).toBe(downloaded![3]);
    expect(existsSync(`${workDir}/state`)).toBe(true);
  });
});
