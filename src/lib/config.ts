/** Typed view of the Worker's configuration (vars and secrets); every default lives here. */

export interface Config {
  adminUser: string;
  adminPassword: string;
  secret: string;
  publicUrl: string;
  oidcPrivateKey: string;
  oidcIssuer: string;
  oidcJwksUrl: string;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  loginMaxFailures: number;
  loginWindow: number;
  credentialCacheTtl: number;
  stunServers: string[];
  turnServers: string[];
  turnSecret: string;
  turnTtl: number;
  sipBridgeSecret: string;
  sipDialinInfo: string;
  sipGroups: string[];
  /** Talk `recording_consent`: 1 = everyone must consent to recording before joining a call. */
  recordingConsent: number;
  serviceClients: ServiceClient[];
  defaultGroupNotification: number;
  /** Nextcloud (WebDAV + share API) for OpenTalk event shared folders; empty url = not configured. */
  sharedFolder: { url: string; user: string; password: string; directory: string };
}

export interface ServiceClient {
  clientId: string;
  secret: string;
  roles: string[];
}

type Vars = Partial<Record<string, string>>;

const configs = new WeakMap<object, Config>();

export function config(env: Env): Config {
  let cfg = configs.get(env);
  if (!cfg) {
    cfg = parseConfig(env as unknown as Vars);
    configs.set(env, cfg);
  }
  return cfg;
}

function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
}

function int(value: string | undefined, fallback: number): number {
  const n = Number.parseInt(value ?? "", 10);
  return Number.isFinite(n) ? n : fallback;
}

export function parseConfig(vars: Vars): Config {
  const secret = vars.EDGETALK_SECRET ?? "";
  if (secret.length < 32) {
    throw new Error("EDGETALK_SECRET must be set to at least 32 characters (see .dev.vars.example)");
  }
  return {
    adminUser: vars.EDGETALK_ADMIN_USER || "admin",
    adminPassword: vars.EDGETALK_ADMIN_PASSWORD ?? "",
    secret,
    publicUrl: (vars.EDGETALK_PUBLIC_URL ?? "").replace(/\/+$/, ""),
    oidcPrivateKey: vars.EDGETALK_OIDC_PRIVATE_KEY ?? "",
    oidcIssuer: (vars.EDGETALK_OIDC_ISSUER ?? "").replace(/\/+$/, ""),
    oidcJwksUrl: vars.EDGETALK_OIDC_JWKS_URL ?? "",
    accessTokenTtl: int(vars.EDGETALK_ACCESS_TOKEN_TTL, 300),
    refreshTokenTtl: int(vars.EDGETALK_REFRESH_TOKEN_TTL, 30 * 24 * 3600),
    loginMaxFailures: int(vars.EDGETALK_LOGIN_MAX_FAILURES, 5),
    loginWindow: int(vars.EDGETALK_LOGIN_WINDOW, 300),
    credentialCacheTtl: int(vars.EDGETALK_CREDENTIAL_CACHE_TTL, 60),
    stunServers: list(vars.EDGETALK_STUN_SERVERS),
    turnServers: list(vars.EDGETALK_TURN_SERVERS),
    turnSecret: vars.EDGETALK_TURN_SECRET ?? "",
    turnTtl: int(vars.EDGETALK_TURN_TTL, 86400),
    sipBridgeSecret: vars.EDGETALK_SIP_BRIDGE_SECRET ?? "",
    sipDialinInfo: vars.EDGETALK_SIP_DIALIN_INFO ?? "",
    sipGroups: list(vars.EDGETALK_SIP_GROUPS),
    recordingConsent: vars.EDGETALK_RECORDING_CONSENT === "1" ? 1 : 0,
    serviceClients: parseServiceClients(vars.EDGETALK_SERVICE_CLIENTS),
    defaultGroupNotification: int(vars.EDGETALK_DEFAULT_GROUP_NOTIFICATION, 2),
    sharedFolder: {
      url: (vars.EDGETALK_SHARED_FOLDER_URL ?? "").replace(/\/+$/, ""),
      user: vars.EDGETALK_SHARED_FOLDER_USER ?? "",
      password: vars.EDGETALK_SHARED_FOLDER_PASSWORD ?? "",
      directory: (vars.EDGETALK_SHARED_FOLDER_DIRECTORY || "opentalk").replace(/^\/+|\/+$/g, ""),
    },
  };
}

/** `client:secret:role1+role2,client2:secret2:role` */
function parseServiceClients(value: string | undefined): ServiceClient[] {
  return list(value).flatMap((entry) => {
    const [clientId, secret, roles] = entry.split(":");
    if (!clientId || !secret) return [];
    return [{ clientId, secret, roles: (roles ?? "").split("+").filter(Boolean) }];
  });
}
