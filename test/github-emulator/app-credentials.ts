import { createHmac, generateKeyPairSync, verify } from 'node:crypto';

/** A GitHub App's identity as the emulator and the app under test share it. */
export interface AppCredentials {
  readonly appId: number;
  readonly slug: string;
  /** PKCS#1 PEM, the form GitHub hands out when you generate a private key. */
  readonly privateKey: string;
  readonly publicKey: string;
  readonly webhookSecret: string;
}

let cachedKeys: { privateKey: string; publicKey: string } | undefined;

/** Fresh app credentials; the RSA key pair is made once per process (it takes a moment). */
export function createAppCredentials(overrides: Partial<AppCredentials> = {}): AppCredentials {
  cachedKeys ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return {
    appId: 424242,
    slug: 'cairn',
    webhookSecret: 'cairn-webhook-secret-for-tests',
    ...cachedKeys,
    ...overrides,
  };
}

/** Checks a GitHub App JWT (RS256) as GitHub does: signature, issuer and lifetime. */
export function verifyAppJwt(
  token: string,
  credentials: AppCredentials,
  now = Date.now(),
): string | undefined {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return 'not a JWT';
  const ok = verify(
    'RSA-SHA256',
    Buffer.from(`${header}.${payload}`),
    credentials.publicKey,
    Buffer.from(signature, 'base64url'),
  );
  if (!ok) return "'Issued at' claim or signature could not be verified";
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
    iss?: unknown;
    exp?: number;
    iat?: number;
  };
  if (String(claims.iss) !== String(credentials.appId))
    return `'Issuer' claim ('iss') must be ${credentials.appId}`;
  const seconds = Math.floor(now / 1000);
  if (claims.exp === undefined || claims.exp < seconds)
    return "'Expiration time' claim ('exp') is too far in the past";
  if (claims.iat === undefined || claims.iat > seconds + 60)
    return "'Issued at' claim ('iat') must be in the past";
  if (claims.exp - claims.iat > 600 + 60) return "'Expiration time' claim ('exp') is too far in the future";
  return undefined;
}

/** The `X-Hub-Signature-256` value GitHub sends with a delivery of `body`. */
export function signWebhook(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
