// The sudo rule generator (pure), the checks that keep a root rule away from anything the component
// user could change, and the run-as defaults. visudo and the real sudo are exercised in test/system/.
import { chmod, chown, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executorSchema } from '../../src/config/schema.js';
import { parseJobDocument } from '../../src/run/document/parse.js';
import { checkRunAsPolicy, defaultAllowedRunAsUsers, runAsPolicy } from '../../src/run/privilege.js';
import { checkPrivilegeSetup } from '../../src/run/privilege-check.js';
import { buildRule, checkRootOnly, installHandlers, removeRule } from '../../src/run/sudoers-install.js';
import { checkRulePath, renderSudoersRule, sudoersFileName } from '../../src/run/sudoers.js';
import { makeTempDir, writeHandler } from './helpers.js';

const HANDLERS =
  '/greengrass/v2/packages/artifacts-unarchived/io.ggjobs.JobsAgent/0.1.0/ggjobs-amd64/handlers';

describe('renderSudoersRule', () => {
  it('allows exactly the handler directories and commands, as exactly the other allowed users', () => {
    const text = renderSudoersRule({
      component: 'io.ggjobs.JobsAgent',
      user: 'ggc_user',
      runAsUsers: ['root', 'ggc_user', 'svc-app'],
      handlerDirectories: [HANDLERS, '/opt/site-handlers'],
      commands: ['/usr/bin/systemctl'],
    });
    const rules = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(rules).toEqual([
      'Defaults:ggc_user !requiretty',
      'Defaults:ggc_user env_keep += "GGJOBS_JOB_ID GGJOBS_EXECUTION_NUMBER GGJOBS_THING_NAME GGJOBS_NAMESPACE_ID GGJOBS_DRY_RUN GGJOBS_REBOOT_WAIT_SECONDS"',
      `Cmnd_Alias GGJOBS_IO_GGJOBS_JOBSAGENT_HANDLERS = ${HANDLERS}/*, /opt/site-handlers/*`,
      'Cmnd_Alias GGJOBS_IO_GGJOBS_JOBSAGENT_COMMANDS = /usr/bin/systemctl',
      'ggc_user ALL = (root, svc-app) NOPASSWD: GGJOBS_IO_GGJOBS_JOBSAGENT_HANDLERS, GGJOBS_IO_GGJOBS_JOBSAGENT_COMMANDS',
    ]);
    expect(text).not.toMatch(/\bALL\s*=\s*\(ALL/);
  });

  it('writes a rule-less file when nobody else or nothing is allowed', () => {
    const base = { component: 'c', user: 'ggc_user', handlerDirectories: [HANDLERS], commands: [] };
    const self = renderSudoersRule({ ...base, runAsUsers: ['ggc_user'] });
    expect(self.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([]);
    expect(self).toContain('names no user other than ggc_user: nothing to allow');
    const empty = renderSudoersRule({ ...base, runAsUsers: ['root'], handlerDirectories: [] });
    expect(empty.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([]);
  });

  it('refuses paths and names that sudoers would read as syntax, wildcards or too wide', () => {
    const base = { component: 'c', user: 'ggc_user', runAsUsers: ['root'], commands: [] };
    expect(() => renderSudoersRule({ ...base, handlerDirectories: ['/opt/my handlers'] })).toThrow(
      'handler directory /opt/my handlers contains characters sudoers would treat as syntax or wildcards',
    );
    expect(() => renderSudoersRule({ ...base, handlerDirectories: ['/opt/h*'] })).toThrow(/wildcards/);
    expect(() => renderSudoersRule({ ...base, handlerDirectories: ['/usr/bin'] })).toThrow(
      'handler directory /usr/bin is a system directory; DIR/* would allow far more than job handlers',
    );
    expect(() => renderSudoersRule({ ...base, handlerDirectories: ['/opt/x/../y'] })).toThrow(/normalized/);
    expect(() => renderSudoersRule({ ...base, handlerDirectories: [], commands: ['systemctl'] })).toThrow(
      'command systemctl must be an absolute path',
    );
    expect(() => renderSudoersRule({ ...base, handlerDirectories: [], runAsUsers: ['ALL'] })).not.toThrow();
    expect(() => renderSudoersRule({ ...base, handlerDirectories: [], runAsUsers: ['a,b'] })).toThrow(
      'runAsUser "a,b" is not a user name',
    );
    expect(checkRulePath('command', '/usr/bin/apt-get')).toBeUndefined();
  });

  it('names the file so that sudo reads it (no "." in names under sudoers.d)', () => {
    expect(sudoersFileName('io.ggjobs.JobsAgent')).toBe('ggjobs-io_ggjobs_JobsAgent');
    expect(sudoersFileName('com.example.Jobs-2')).toBe('ggjobs-com_example_Jobs-2');
  });
});

describe('the rule inputs from the configuration', () => {
  it('takes the handler directories by their real path, and refuses ones others can write', async () => {
    const root = await makeTempDir(0o755);
    const handlers = join(root, 'handlers');
    await mkdir(handlers, { mode: 0o755 });
    await chmod(handlers, 0o755);
    const executor = executorSchema.parse({
      handlerDirectory: handlers,
      allowedCommands: ['sh-is-not-here-42'],
    });
    const rule = await buildRule({ executor, component: 'io.ggjobs.JobsAgent', user: 'nobody' });
    expect(rule.fileName).toBe('ggjobs-io_ggjobs_JobsAgent');
    expect(rule.text).toContain(`Cmnd_Alias GGJOBS_IO_GGJOBS_JOBSAGENT_HANDLERS = ${handlers}/*\n`);
    expect(rule.text).toContain('nobody ALL = (root) NOPASSWD: GGJOBS_IO_GGJOBS_JOBSAGENT_HANDLERS\n');
    expect(rule.warnings).toEqual([
      'allowed command "sh-is-not-here-42" is not installed; left out of the rule',
    ]);

    await chmod(handlers, 0o775);
    await expect(buildRule({ executor, component: 'c', user: 'nobody' })).rejects.toThrow(
      `handler directory ${handlers} is mode 0775; it must not be writable by group or others (else nobody could add files and run them as root)`,
    );
    await chmod(handlers, 0o755);
    await chmod(root, 0o777);
    expect(await checkRootOnly('handler directory', handlers)).toBe(
      `handler directory ${handlers} (its parent ${root}) is mode 0777; it must not be writable by group or others`,
    );
  });

  it('uses handlerDirectories when set, and refuses unknown users and missing directories', async () => {
    const a = await makeTempDir(0o755);
    const b = await makeTempDir(0o755);
    const executor = executorSchema.parse({
      handlerDirectories: [a, b],
      allowedRunAsUsers: ['root', 'nobody'],
    });
    const rule = await buildRule({ executor, component: 'c', user: 'root' });
    expect(rule.text).toContain(`= ${a}/*, ${b}/*\n`);
    expect(rule.text).toContain('root ALL = (nobody) NOPASSWD:');
    await expect(
      buildRule({
        executor: executorSchema.parse({ allowedRunAsUsers: ['no_such_user_42'] }),
        component: 'c',
        user: 'root',
      }),
    ).rejects.toThrow('executor.allowedRunAsUsers: user "no_such_user_42" does not exist on this device');
    await expect(
      buildRule({
        executor: executorSchema.parse({ handlerDirectory: join(a, 'gone') }),
        component: 'c',
        user: 'nobody',
      }),
    ).rejects.toThrow(`handler directory ${join(a, 'gone')} does not exist`);
  });

  it('installs the shipped handlers as a root-owned copy, replacing the previous one', async () => {
    const artifact = await makeTempDir(0o755);
    await writeHandler(artifact, 'reboot.sh', 'exit 0', 0o700);
    await writeHandler(artifact, 'echo.sh', 'echo "$@"', 0o700);
    await mkdir(join(artifact, 'subdir'));
    for (const name of ['reboot.sh', 'echo.sh']) await chown(join(artifact, name), 65_534, 65_534);
    const target = join(await makeTempDir(0o755), 'lib', 'handlers');
    expect(await installHandlers(artifact, target)).toEqual(['echo.sh', 'reboot.sh']);
    for (const path of [target, join(target, 'reboot.sh')]) {
      const facts = await stat(path);
      expect({ uid: facts.uid, mode: facts.mode & 0o7777 }).toEqual({ uid: 0, mode: 0o755 });
    }
    expect(await checkRootOnly('handler directory', target)).toBeUndefined();

    await writeHandler(artifact, 'new.sh', 'exit 0');
    expect(await installHandlers(artifact, target)).toEqual(['echo.sh', 'new.sh', 'reboot.sh']);
    expect((await readdir(join(target, '..'))).sort()).toEqual(['handlers']);
    await expect(installHandlers(join(artifact, 'gone'), target)).rejects.toThrow(
      `handlers to install: ${join(artifact, 'gone')} does not exist`,
    );
  });

  it('removes the rule file, and says so when there is none', async () => {
    const dir = await makeTempDir(0o755);
    await writeHandler(dir, 'ggjobs-c', '', 0o440);
    expect(await removeRule('ggjobs-c', dir)).toEqual({ action: 'removed', path: join(dir, 'ggjobs-c') });
    expect(await removeRule('ggjobs-c', dir)).toEqual({ action: 'absent', path: join(dir, 'ggjobs-c') });
  });
});

describe('run-as defaults and the document check', () => {
  it('defaults to root and the agent under Greengrass, the agent (and root when root) standalone', () => {
    expect(defaultAllowedRunAsUsers({ name: 'ggc_user', uid: 1000 }, true)).toEqual(['root', 'ggc_user']);
    expect(defaultAllowedRunAsUsers({ name: 'root', uid: 0 }, true)).toEqual(['root']);
    expect(defaultAllowedRunAsUsers({ name: 'ggc_user', uid: 1000 }, false)).toEqual(['ggc_user']);
    expect(defaultAllowedRunAsUsers({ name: 'root', uid: 0 }, false)).toEqual(['root']);
    const configured = runAsPolicy(
      executorSchema.parse({ allowedRunAsUsers: ['svc'], defaultRunAsUser: 'svc', sudo: 'false' }),
      { name: 'ggc_user', uid: 1000 },
      true,
    );
    expect(configured).toEqual({ allowed: ['svc'], defaultUser: 'svc', sudo: false });
  });

  it('accepts the managed templates on a Greengrass device and names the allowed users otherwise', () => {
    const policy = runAsPolicy(executorSchema.parse({}), { name: 'ggc_user', uid: 1000 }, true);
    const plan = (doc: unknown) => {
      const parsed = parseJobDocument(doc);
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.plan;
    };
    const step = (runAsUser: string) => ({
      version: '1.0',
      steps: [{ action: { name: 'S', type: 'runHandler', input: { handler: 'x.sh' }, runAsUser } }],
    });
    expect(checkRunAsPolicy(plan(step('root')), policy)).toEqual({ ok: true });
    expect(checkRunAsPolicy(plan(step('')), policy)).toEqual({ ok: true });
    expect(checkRunAsPolicy(plan(step('pi')), policy)).toEqual({
      ok: false,
      reason:
        'steps[0].action.runAsUser: runAsUser "pi" is not allowed on this device; executor.allowedRunAsUsers is [root, ggc_user]',
    });
  });
});

describe('checkPrivilegeSetup (for ggjobs doctor)', () => {
  const ggc = { name: 'ggc_user', uid: 1000, gid: 1000, home: '/home/ggc_user' };
  const root = { name: 'root', uid: 0, gid: 0, home: '/root' };

  it('says what will happen to steps for other users', async () => {
    const dir = await makeTempDir(0o755);
    await writeHandler(dir, 'reboot.sh', 'exit 0', 0o755);
    const config = executorSchema.parse({});
    const asked: string[] = [];
    const deps = {
      findSudo: async () => '/usr/bin/sudo' as string | undefined,
      checkSudoAllows: async (_sudo: string, user: string, file: string) => {
        asked.push(`${user} ${file}`);
        return { ok: false as const, detail: 'sudo: a password is required' };
      },
    };
    expect(await checkPrivilegeSetup(config, ggc, dir, false, deps)).toEqual([
      { ok: true, message: 'steps run as ggc_user only (executor.allowedRunAsUsers is [ggc_user])' },
    ]);
    expect(await checkPrivilegeSetup(config, root, dir, true, deps)).toEqual([
      { ok: true, message: 'steps run as root only (executor.allowedRunAsUsers is [root])' },
    ]);
    expect(await checkPrivilegeSetup(config, ggc, dir, true, deps)).toEqual([
      {
        ok: false,
        message: `sudo does not let ggc_user run ${dir}/reboot.sh as root (sudo: a password is required): redeploy the component or run \`ggjobs sudoers --apply\` as root`,
      },
    ]);
    expect(asked).toEqual([`root ${dir}/reboot.sh`]);
    expect(
      await checkPrivilegeSetup(config, ggc, dir, true, { ...deps, findSudo: async () => undefined }),
    ).toEqual([
      {
        ok: false,
        message:
          'steps as root will fail: sudo is not installed; install it and redeploy the component so its Install step writes the rule',
      },
    ]);
    const noSudo = executorSchema.parse({ sudo: false });
    expect((await checkPrivilegeSetup(noSudo, ggc, dir, true, deps))[0]?.message).toBe(
      'steps as root will fail: ggjobs runs as ggc_user and executor.sudo is false (executor.allowedRunAsUsers is [root, ggc_user])',
    );
    const allowing = { ...deps, checkSudoAllows: async () => ({ ok: true as const }) };
    expect(await checkPrivilegeSetup(config, ggc, dir, true, allowing)).toEqual([
      { ok: true, message: `sudo lets ggc_user run handlers (${dir}/reboot.sh) as root` },
    ]);
  });
});
