// A client generated from walletd's /openapi.json (openapi-typescript types,
// openapi-fetch calls), compiled with tsc --strict and run by Node against a
// live walletd: the contract is what a client developer gets. Every answer
// is also checked against the document's schema for its status (ajv).
// Usage: node out/client.js BASE_URL TOKEN ASSET RUN_ID
import createClient from "openapi-fetch";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import type { paths } from "./schema.js";

const require = createRequire(import.meta.url);
const Ajv = require("ajv").default;

const [baseUrl, token, asset, run] = process.argv.slice(2);
if (!baseUrl || !token || !asset || !run) throw new Error("usage: client.js BASE_URL TOKEN ASSET RUN_ID");

const doc = JSON.parse(readFileSync(new URL("./openapi.json", import.meta.url), "utf8"));
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addSchema(doc, "openapi.json");

let checks = 0;
function fail(message: string): never {
  throw new Error(message);
}
function expect(what: string, actual: unknown, expected: unknown) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    fail(`${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  }
  checks++;
}

// The answer's status is one the document lists for this operation, and
// its body validates against that status's schema.
function conforms(path: string, method: string, response: Response, body: unknown) {
  const responses = doc.paths[path]?.[method]?.responses;
  if (!responses) fail(`${method} ${path} is not in the document`);
  const documented = responses[String(response.status)];
  if (!documented) fail(`${method} ${path} answered ${response.status}, which the document does not list`);
  const schema = documented.content?.["application/json"]?.schema;
  if (schema) {
    const validate = ajv.compile({ $ref: "openapi.json" + schema.$ref.replace(/^#/, "#") });
    if (!validate(body)) {
      fail(`${method} ${path} ${response.status}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body)}`);
    }
  }
  checks++;
}

const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
const alice = `alice-${run}`;
const bob = `bob-${run}`;

for (const user of [alice, bob]) {
  const { data, error, response } = await client.POST("/v1/wallets", { body: { user, asset } });
  conforms("/v1/wallets", "post", response, data ?? error);
  expect(`wallet of ${user}`, response.status, 201);
}

// A deposit, and its replay under the same Idempotency-Key.
const depositKey = `client-deposit-${run}`;
const deposit = await client.POST("/v1/deposits", {
  params: { header: { "Idempotency-Key": depositKey } },
  body: { user: alice, asset, amount: "100.00", memo: "generated client" },
});
conforms("/v1/deposits", "post", deposit.response, deposit.data ?? deposit.error);
expect("deposit status", deposit.response.status, 201);
const depositId = deposit.data?.transaction_id ?? fail("deposit without transaction_id");
const replay = await client.POST("/v1/deposits", {
  params: { header: { "Idempotency-Key": depositKey } },
  body: { user: alice, asset, amount: "100.00", memo: "generated client" },
});
conforms("/v1/deposits", "post", replay.response, replay.data ?? replay.error);
expect("replay status", replay.response.status, 200);
expect("replay names the same transaction", replay.data?.transaction_id, depositId);
expect("replay says so", replay.data?.replayed, true);

// The same key for another request: 409 with the error shape.
const reused = await client.POST("/v1/deposits", {
  params: { header: { "Idempotency-Key": depositKey } },
  body: { user: alice, asset, amount: "5.00" },
});
conforms("/v1/deposits", "post", reused.response, reused.data ?? reused.error);
expect("key reused for another request", reused.response.status, 409);

// Transfers with keys; one more than alice has is refused (422).
for (let i = 1; i <= 5; i++) {
  const t = await client.POST("/v1/transfers", {
    params: { header: { "Idempotency-Key": `client-transfer-${run}-${i}` } },
    body: { from: alice, to: bob, asset, amount: "6.00" },
  });
  conforms("/v1/transfers", "post", t.response, t.data ?? t.error);
  expect(`transfer ${i}`, [t.response.status, t.data?.status], [201, "posted"]);
}
const overdraw = await client.POST("/v1/transfers", {
  params: { header: { "Idempotency-Key": `client-overdraw-${run}` } },
  body: { from: alice, to: bob, asset, amount: "1000.00" },
});
conforms("/v1/transfers", "post", overdraw.response, overdraw.data ?? overdraw.error);
expect("overdraw refused", overdraw.response.status, 422);

// Balances.
const balances = await client.GET("/v1/users/{user}/balances", { params: { path: { user: alice }, query: { asset } } });
conforms("/v1/users/{user}/balances", "get", balances.response, balances.data ?? balances.error);
expect("alice's balance", balances.data?.map((b) => [b.asset, b.balance, b.available]), [[asset, "70.00", "70.00"]]);

// History, two to a page, following next_cursor to the end.
const seen: number[] = [];
const statuses: string[] = [];
let cursor: string | undefined;
for (let page = 0; page < 10; page++) {
  const h = await client.GET("/v1/users/{user}/history", {
    params: { path: { user: bob }, query: { asset, limit: "2", ...(cursor ? { cursor } : {}) } },
  });
  conforms("/v1/users/{user}/history", "get", h.response, h.data ?? h.error);
  expect("history page", h.response.status, 200);
  for (const entry of h.data?.entries ?? []) {
    seen.push(entry.transaction_id ?? fail("entry without transaction_id"));
    statuses.push(entry.status ?? fail("entry without status"));
  }
  cursor = h.data?.next_cursor ?? undefined;
  if (!cursor) break;
}
// Five transfers posted and the refused one (recorded as failed), each once.
expect("bob's history, each transaction once", [seen.length, new Set(seen).size], [6, 6]);
expect("bob's history by status", [...statuses].sort(), ["failed", "posted", "posted", "posted", "posted", "posted"]);

// One transaction with its entries.
const one = await client.GET("/v1/transactions/{id}", { params: { path: { id: String(depositId) } } });
conforms("/v1/transactions/{id}", "get", one.response, one.data ?? one.error);
expect("the deposit's entries", one.data?.entries?.length, 2);

// A wallet that does not exist: 404 with the error shape.
const missing = await client.GET("/v1/users/{user}/balances", { params: { path: { user: `nobody-${run}` }, query: {} } });
conforms("/v1/users/{user}/balances", "get", missing.response, missing.data ?? missing.error);

console.log(`ok: generated client, ${checks} checks against walletd`);
