// Bundles the studio into dist/ (not committed): dist/studio.js and dist/studio.css from src/,
// dmn-js's fonts beside them, and Swagger UI's and ReDoc's files in dist/docs/ so that /docs
// and /redoc need no network. Run by `npm run build` (the Makefile's studio stamp).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';

const out = 'dist';
rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}/docs`, { recursive: true });

await build({
  entryPoints: { studio: 'src/main.js', 'studio-style': 'src/studio.css' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  outdir: out,
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
  assetNames: 'assets/[name]-[hash]',
  legalComments: 'none',
  logLevel: 'warning',
});

const docs = [
  ['node_modules/swagger-ui-dist/swagger-ui-bundle.js', 'swagger-ui-bundle.js'],
  ['node_modules/swagger-ui-dist/swagger-ui.css', 'swagger-ui.css'],
  ['node_modules/swagger-ui-dist/favicon-32x32.png', 'favicon-32x32.png'],
  ['node_modules/redoc/bundles/redoc.standalone.js', 'redoc.standalone.js'],
];
for (const [from, to] of docs) copyFileSync(from, `${out}/docs/${to}`);

const sizes = Object.fromEntries(['studio.js', 'studio-style.css'].map((f) => [f, statSync(`${out}/${f}`).size]));
writeFileSync(`${out}/build-info.json`, JSON.stringify({ built: new Date().toISOString(), sizes }, null, 2));
console.log('studio built:', sizes);
