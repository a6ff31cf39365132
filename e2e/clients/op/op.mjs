// A loopback OpenID provider (oidc-provider) for tokengate's real-client tests.
//
// Usage: node op.mjs PORT AUDIENCE
// With OP_TLS_CERT and OP_TLS_KEY (PEM files) it serves HTTPS, which
// mlflow-oidc-client requires of an issuer.
// Prints "ready <issuer>" on stdout once it listens on 127.0.0.1:PORT.
// Clients:
//   cc-client / cc-secret      client_credentials (mlflow-oidc-client)
//   scoring-cli (public)       authorization_code + refresh_token, offline_access (h2o_authn)
//   mlflow-cli (public,        authorization_code with PKCE on any loopback port
//     native)                  (mlflow-oidc-client's interactive login, use-id-token)
//   opaque-cc / opaque-secret  client_credentials without a resource: opaque tokens
//   tokengate / tokengate-secret  no grant; calls the introspection endpoint
//                              (/token/introspection, RFC 7662) as a resource server
// Revocation (/token/revocation, RFC 7009) is on: a client revokes its own
// opaque tokens, and introspection answers "active": false for them after.
// The access tokens of cc-client and scoring-cli are JWTs (RS256) whose aud
// is the requested resource indicator, AUDIENCE by default. mlflow-cli asks
// for no resource, so its access token is an opaque userinfo token and only
// its ID token (aud "mlflow-cli") is a JWT; opaque-cc's tokens are opaque
// too, and only introspection tells what they grant. Logging in needs no password:
// GET /interaction/<uid> signs in "alice" and grants what was asked.
// GET /e2e/expired-token?aud=X returns an access token for X, signed with
// the provider's key, that expired ten minutes ago: what a client holds when
// it kept a token too long (no real grant can be asked for one).
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import Provider from 'oidc-provider';

const [port, audience] = process.argv.slice(2);
if (!port || !audience) {
  console.error('usage: node op.mjs PORT AUDIENCE');
  process.exit(2);
}
const tls = process.env.OP_TLS_CERT && process.env.OP_TLS_KEY;
const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'e2e-rs256', use: 'sig', alg: 'RS256' };

// Any resource indicator is accepted and becomes the token's audience, so a
// test can ask for a token meant for another API.
const resourceServer = (resource) => ({
  scope: 'openid offline_access score',
  audience: resource,
  accessTokenTTL: 300,
  accessTokenFormat: 'jwt',
  jwt: { sign: { alg: 'RS256' } },
});

const provider = new Provider(issuer, {
  jwks: { keys: [jwk] },
  clients: [
    {
      client_id: 'cc-client',
      client_secret: 'cc-secret',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'score',
    },
    {
      client_id: 'scoring-cli',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
      scope: 'openid offline_access score',
    },
    {
      client_id: 'mlflow-cli',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/oauth2/callback'],
      scope: 'openid',
    },
    {
      client_id: 'opaque-cc',
      client_secret: 'opaque-secret',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'score',
    },
    {
      client_id: 'tokengate',
      client_secret: 'tokengate-secret',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  scopes: ['openid', 'offline_access', 'score'],
  findAccount: (ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx, client) => (['mlflow-cli', 'opaque-cc'].includes(client?.clientId) ? undefined : audience),
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => resourceServer(resource),
    },
  },
  pkce: { required: () => false },
  issueRefreshToken: () => true,
  ttl: { AccessToken: 300, ClientCredentials: 300, IdToken: 300, Interaction: 600, Session: 600, Grant: 600, RefreshToken: 3600 },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
provider.use(async (ctx, next) => {
  if (ctx.path !== '/e2e/expired-token') return next();
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64url({ alg: 'RS256', typ: 'at+jwt', kid: jwk.kid })}.${b64url({
    iss: issuer, sub: 'alice', aud: ctx.query.aud || audience, client_id: 'scoring-cli',
    scope: 'score', iat: now - 900, exp: now - 600,
  })}`;
  ctx.type = 'text/plain';
  ctx.body = `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
});

// Every interaction ends at once: "alice" signs in and is granted what the
// client asked for. A test provider only; never run this anywhere else.
provider.use(async (ctx, next) => {
  const m = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (!m) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params } = details;
  if (process.env.OP_DEBUG) console.error('interaction', prompt.name, JSON.stringify(prompt.reasons));
  if (prompt.name === 'login') {
    return provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: 'alice' } }, { mergeWithLastSubmission: false });
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(missing.missingResourceScopes || {})) {
    grant.addResourceScope(resource, scopes.join(' '));
  }
  const grantId = await grant.save();
  return provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
});

const ready = () => console.log(`ready ${issuer}`);
if (tls) {
  https.createServer({ cert: readFileSync(process.env.OP_TLS_CERT), key: readFileSync(process.env.OP_TLS_KEY) }, provider.callback())
    .listen(Number(port), '127.0.0.1', ready);
} else {
  provider.listen(Number(port), '127.0.0.1', ready);
}
