// openapi-check.js SPEC RESPONSES_DIR - validates recorded pcipassd
// replies against the OpenAPI 3.1 document: each reply's path must match
// a documented path and method, its status must be documented, and its
// JSON body must validate (ajv, JSON Schema 2020-12) against the
// documented schema. Every documented operation must have been exercised
// at least once. Exit 1 with every problem listed.
'use strict';
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');
const Ajv2020 = require('ajv/dist/2020');

const [specFile, dir] = process.argv.slice(2);
const spec = yaml.load(fs.readFileSync(specFile, 'utf8'));
if (!String(spec.openapi).startsWith('3.')) {
  console.error(`${specFile}: not an OpenAPI 3 document`);
  process.exit(1);
}
const ajv = new Ajv2020({strict: false, allErrors: true});
ajv.addSchema({$id: 'spec', components: spec.components});

// Schemas refer to '#/components/schemas/X'; point them at the added doc.
function rebase(node) {
  if (Array.isArray(node)) return node.map(rebase);
  if (node && typeof node === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] = (k === '$ref' && typeof v === 'string' && v.startsWith('#/'))
          ? 'spec' + v : rebase(v);
    }
    return out;
  }
  return node;
}

const templates = Object.keys(spec.paths).map((p) => ({
  template: p,
  regex: new RegExp('^' + p.replace(/\{[^}]+\}/g, '[^/]+') + '$'),
}));
const problems = [];
const exercised = new Set();
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
for (const f of files) {
  const r = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  const urlPath = r.path.split('?')[0];
  const t = templates.find((x) => x.regex.test(urlPath));
  const what = `${r.method} ${r.path} -> ${r.status}`;
  if (!t) {
    // An undocumented path must be the documented 404 error.
    const v = ajv.compile({$ref: 'spec#/components/schemas/Error'});
    let body = null;
    try { body = JSON.parse(r.body); } catch (e) { /* reported below */ }
    if (r.status !== 404 || !v(body)) {
      problems.push(`${what}: path not documented (and not a 404 error)`);
    }
    continue;
  }
  const op = spec.paths[t.template][r.method.toLowerCase()];
  if (!op) {
    // A method the path does not have: must be a 405 error.
    const v = ajv.compile({$ref: 'spec#/components/schemas/Error'});
    let body = null;
    try { body = JSON.parse(r.body); } catch (e) { /* reported below */ }
    if (r.status !== 405 || !v(body)) {
      problems.push(`${what}: method not documented (and not a 405 error)`);
    }
    continue;
  }
  exercised.add(`${r.method.toLowerCase()} ${t.template}`);
  const resp = op.responses[String(r.status)] || op.responses.default;
  if (!resp) { problems.push(`${what}: status not documented`); continue; }
  const media = resp.content && resp.content['application/json'];
  if (!media) continue;  // no JSON body documented
  if (!r.content_type.startsWith('application/json')) {
    problems.push(`${what}: content type ${r.content_type}`);
    continue;
  }
  let body;
  try { body = JSON.parse(r.body); } catch (e) {
    problems.push(`${what}: body is not JSON: ${e.message}`);
    continue;
  }
  const validate = ajv.compile(rebase(media.schema));
  if (!validate(body)) {
    problems.push(`${what}: ` + ajv.errorsText(validate.errors, {separator: '; '}));
  }
}
for (const [p, item] of Object.entries(spec.paths)) {
  for (const m of Object.keys(item)) {
    if (!['get', 'post', 'delete', 'put', 'patch'].includes(m)) continue;
    if (!exercised.has(`${m} ${p}`)) {
      problems.push(`${m.toUpperCase()} ${p}: documented but never exercised`);
    }
  }
}
if (problems.length) {
  for (const p of problems) console.error('openapi: ' + p);
  process.exit(1);
}
console.log(`openapi: ${files.length} replies valid, ` +
            `${exercised.size} operations exercised`);
