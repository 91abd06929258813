#!/usr/bin/env node
// `npm run package`: builds the Greengrass component (also GDK's custom build command).
//
//   greengrass-build/artifacts/<ComponentName>/<version>/ggjobs-<arch>.zip   one per platform
//   greengrass-build/recipes/recipe.yaml                                     what `gdk component publish` reads
//   greengrass-build/recipes/<ComponentName>-<version>.yaml                  the same, for the console/CLI
//   greengrass-build/stage/ggjobs-<arch>/                                   each zip's content, unpacked
//
// Each zip holds one esbuild bundle of the CLI (every production dependency it imports, minified),
// the aws-crt native binary of that platform only, the default job handlers, and a package.json
// with the version. The layout mirrors the repository (package.json, handlers/, dist/cli/) because
// the code finds those by paths relative to its own module URL.
//
// Options: --out DIR (default greengrass-build), --bucket NAME (the S3 bucket in the artifact URIs;
// default $GGJOBS_ARTIFACT_BUCKET, else gdk-config.json's publish.bucket).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  chmodSync,
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { parseDocument } from 'yaml';
import yazl from 'yazl';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Greengrass `Platform.architecture` -> Node's process.arch and aws-crt's binary directory. */
export const PLATFORMS = [
  { architecture: 'amd64', nodeArch: 'x64', crtDir: 'linux-x64-glibc' },
  { architecture: 'aarch64', nodeArch: 'arm64', crtDir: 'linux-arm64-glibc' },
];

/** Fixed timestamps make the zips (and so their digests) depend on the content only. */
const ZIP_MTIME = new Date('2020-01-01T00:00:00Z');
const BUNDLE = 'dist/cli/ggjobs.mjs';
const CRT_ROOT = 'dist/cli/aws-crt';

const ENTRY = `
import { run } from './src/cli/entry.ts';
run(process.argv).catch((err) => { console.error(err); process.exitCode = 1; });
`;

// CommonJS dependencies call require() and use __dirname; an ES module bundle has neither.
const BANNER = [
  "import { createRequire as __ggjobsCreateRequire } from 'node:module';",
  "import { fileURLToPath as __ggjobsFileURLToPath } from 'node:url';",
  "import { dirname as __ggjobsDirname } from 'node:path';",
  'const require = __ggjobsCreateRequire(import.meta.url);',
  'const __filename = __ggjobsFileURLToPath(import.meta.url);',
  'const __dirname = __ggjobsDirname(__filename);',
].join('\n');

/** Replaces `pattern` in a module's source, failing the build if the module no longer looks as expected. */
function patchPlugin(name, filter, pattern, replacement) {
  return {
    name,
    setup(build) {
      build.onLoad({ filter }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        const matches = source.match(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`)) ?? [];
        if (matches.length !== 1) {
          throw new Error(
            `${name}: expected exactly one match of ${pattern} in ${args.path}, found ${matches.length}`,
          );
        }
        return {
          contents: source.replace(pattern, replacement),
          loader: args.path.endsWith('.ts') ? 'ts' : 'js',
        };
      });
    },
  };
}

const plugins = [
  // aws-crt looks for bin/<platform>-<arch>-<libc>/aws-crt-nodejs.node two levels above its own file;
  // in the bundle that file is ggjobs.mjs, so look under dist/cli/aws-crt/ instead. Its platform and
  // libc detection, the error listing the paths it tried, and the AWS_CRT_NODEJS_BINARY_* overrides stay.
  patchPlugin(
    'aws-crt-binary-path',
    /aws-crt[\\/]dist[\\/]native[\\/]binding\.js$/,
    /path\.resolve\(__dirname, '\.\.', '\.\.'\)/,
    "path.join(__dirname, 'aws-crt')",
  ),
  // pino-pretty runs in a worker thread loaded from node_modules, which the bundle does not ship:
  // the component always logs JSON lines (Greengrass writes them to the component's log file).
  patchPlugin('json-logs-only', /src[\\/]log\.ts$/, /const pretty = [^;]+;/, 'const pretty = false;'),
];

// The device never runs `ggjobs local` or `ggjobs demo`: their registration modules are replaced by
// empty ones, so neither the local AWS IoT stack (aedes, the control plane) nor the demo is bundled,
// and the component's CLI simply has no such commands.
const DEV_ONLY_COMMANDS = { 'local.js': 'registerLocal', 'demo.js': 'registerDemo' };
const devOnlyCommandsPlugin = {
  name: 'dev-only-commands',
  setup(build) {
    build.onResolve({ filter: /^\.\/commands\/(local|demo)\.js$/ }, (args) => ({
      path: args.path.slice('./commands/'.length),
      namespace: 'dev-only-command',
    }));
    build.onLoad({ filter: /.*/, namespace: 'dev-only-command' }, (args) => ({
      contents: `export function ${DEV_ONLY_COMMANDS[args.path]}() {}`,
      loader: 'js',
    }));
  },
};

/**
 * Bundles the CLI into `outdir`: ggjobs.mjs plus chunks that are loaded on demand (code splitting), so
 * the AWS SDK and each command's code are read only when used. Returns esbuild's metafile.
 */
export async function bundle(outdir) {
  const result = await esbuild.build({
    stdin: { contents: ENTRY, resolveDir: root, sourcefile: 'ggjobs.ts', loader: 'ts' },
    outdir,
    entryNames: 'ggjobs',
    // Next to ggjobs.mjs: bundled code finds files relative to its own directory (aws-crt's binary).
    chunkNames: '[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    splitting: true,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    legalComments: 'external',
    banner: { js: BANNER },
    plugins: [devOnlyCommandsPlugin, ...plugins],
    logLevel: 'warning',
    metafile: true,
  });
  return result.metafile;
}

/** For each output file (relative to the bundle directory): the source files it holds. */
export function bundleInputs(metafile, outdir) {
  return Object.fromEntries(
    Object.entries(metafile.outputs)
      .filter(([file]) => file.endsWith('.mjs'))
      .map(([file, output]) => [relative(outdir, resolve(root, file)), Object.keys(output.inputs).sort()]),
  );
}

function copyTree(from, to) {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    if (entry.isDirectory()) copyTree(src, dst);
    else if (entry.isFile()) {
      copyFileSync(src, dst);
      chmodSync(dst, statSync(src).mode & 0o777);
    }
  }
}

function filesUnder(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

/** The staged tree of one platform: exactly what its zip holds. */
function stage(dir, platform, bundleDir, pkg) {
  rmSync(dir, { recursive: true, force: true });
  copyTree(bundleDir, join(dir, 'dist/cli'));
  const crtBinary = join(root, 'node_modules/aws-crt/dist/bin', platform.crtDir, 'aws-crt-nodejs.node');
  if (!existsSync(crtBinary)) throw new Error(`missing ${crtBinary}: is aws-crt installed?`);
  mkdirSync(join(dir, CRT_ROOT, 'bin', platform.crtDir), { recursive: true });
  copyFileSync(crtBinary, join(dir, CRT_ROOT, 'bin', platform.crtDir, 'aws-crt-nodejs.node'));
  if (existsSync(join(root, 'handlers'))) copyTree(join(root, 'handlers'), join(dir, 'handlers'));
  const manifest = {
    name: pkg.name,
    version: pkg.version,
    description: pkg.description,
    license: pkg.license,
    type: 'module',
    engines: pkg.engines,
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

async function zipDirectory(dir, zipPath) {
  const zip = new yazl.ZipFile();
  for (const file of filesUnder(dir)) {
    const mode = statSync(file).mode & 0o777;
    zip.addFile(file, relative(dir, file), { mtime: ZIP_MTIME, mode: 0o100000 | mode, compressionLevel: 9 });
  }
  zip.end();
  const out = createWriteStream(zipPath);
  zip.outputStream.pipe(out);
  await once(out, 'close');
}

/** SHA-256 of the file, base64: the recipe's artifact `Digest` (with `Algorithm: SHA-256`). */
export function artifactDigest(path) {
  return createHash('sha256').update(readFileSync(path)).digest('base64');
}

function smokeTest(stagedDir, version) {
  const res = spawnSync(process.execPath, [join(stagedDir, BUNDLE), '--version'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (res.status !== 0 || res.stdout.trim() !== version) {
    throw new Error(
      `the bundle did not print version ${version}: status ${res.status}\n${res.stdout}${res.stderr}`,
    );
  }
}

async function main() {
  const { values } = parseArgs({
    options: { out: { type: 'string', default: 'greengrass-build' }, bucket: { type: 'string' } },
  });
  const out = resolve(root, values.out);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const gdk = JSON.parse(readFileSync(join(root, 'gdk-config.json'), 'utf8'));
  const [componentName] = Object.keys(gdk.component);
  const bucket =
    values.bucket ?? process.env.GGJOBS_ARTIFACT_BUCKET ?? gdk.component[componentName].publish.bucket;
  const recipe = parseDocument(readFileSync(join(root, 'recipe.yaml'), 'utf8'));
  if (recipe.errors.length > 0) throw new Error(`recipe.yaml: ${recipe.errors[0].message}`);
  const version = pkg.version;
  for (const [what, value] of [
    ['recipe.yaml ComponentName', recipe.get('ComponentName')],
    ['recipe.yaml ComponentVersion', recipe.get('ComponentVersion')],
    ['gdk-config.json version', gdk.component[componentName].version],
  ]) {
    const expected = what.endsWith('ComponentName') ? componentName : version;
    if (value !== expected) throw new Error(`${what} is ${value}, expected ${expected}`);
  }

  const artifactsDir = join(out, 'artifacts', componentName, version);
  const recipesDir = join(out, 'recipes');
  const bundleDir = join(out, 'bundle');
  for (const dir of [artifactsDir, recipesDir, bundleDir]) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }

  const metafile = await bundle(bundleDir);
  const bundled = Object.keys(metafile.inputs).filter((p) => p.includes('node_modules'));
  const packages = new Set(bundled.map((p) => p.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1')));
  // What each file of the bundle holds, for reviewing (and testing) what a device loads and when.
  writeFileSync(
    join(out, 'bundle-inputs.json'),
    `${JSON.stringify(bundleInputs(metafile, bundleDir), null, 1)}\n`,
  );

  const manifests = recipe.get('Manifests');
  const report = [];
  for (const platform of PLATFORMS) {
    const archiveName = `ggjobs-${platform.architecture}`;
    const stagedDir = join(out, 'stage', archiveName);
    stage(stagedDir, platform, bundleDir, pkg);
    if (platform.nodeArch === process.arch && process.platform === 'linux') smokeTest(stagedDir, version);
    const zipPath = join(artifactsDir, `${archiveName}.zip`);
    await zipDirectory(stagedDir, zipPath);

    const index = manifests.items.findIndex(
      (m) => m.getIn(['Platform', 'architecture']) === platform.architecture,
    );
    if (index < 0) throw new Error(`recipe.yaml has no manifest for architecture ${platform.architecture}`);
    const artifacts = manifests.getIn([index, 'Artifacts']);
    const at = artifacts?.items.findIndex((a) => String(a.get('URI')).endsWith(`/${archiveName}.zip`)) ?? -1;
    if (at < 0)
      throw new Error(`recipe.yaml manifest ${platform.architecture} has no ${archiveName}.zip artifact`);
    const path = ['Manifests', index, 'Artifacts', at];
    recipe.setIn([...path, 'URI'], `s3://${bucket}/${componentName}/${version}/${archiveName}.zip`);
    recipe.setIn([...path, 'Digest'], artifactDigest(zipPath));
    recipe.setIn([...path, 'Algorithm'], 'SHA-256');
    report.push(`${archiveName}.zip ${statSync(zipPath).size} bytes`);
  }

  const recipeText = recipe.toString({ lineWidth: 0 });
  writeFileSync(join(recipesDir, 'recipe.yaml'), recipeText);
  writeFileSync(join(recipesDir, `${componentName}-${version}.yaml`), recipeText);
  rmSync(bundleDir, { recursive: true, force: true });
  process.stdout.write(
    `packaged ${componentName} ${version} (${packages.size} npm packages bundled)\n` +
      report.map((line) => `  ${line}\n`).join('') +
      `  recipe: ${relative(root, join(recipesDir, `${componentName}-${version}.yaml`))}\n`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`package: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
