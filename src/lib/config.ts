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
  /** Attempts allowed per client address (all accounts together) within the window. */
  loginMaxFailuresPerAddress: number;
  loginWindow: number;
  /** Lifetime of the browser sign-in session (cookie `edgetalk_login`), in seconds. */
  loginSessionTtl: number;
  /** OAuth/OIDC clients that sign in through the browser (authorization code + PKCE). */
  oidcClients: OidcClient[];
  /** Origins allowed to call the APIs from a browser (CORS). */
  corsOrigins: string[];
  /** Push proxies notifications may be relayed to (no trailing slash); empty = no push is sent. */
  pushProxies: string[];
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
  /** The LiveKit server of OpenTalk meetings (media); null = not configured (`livekit_unavailable`). */
  livekit: LiveKitSettings | null;
  /**
   * How Talk clients signal: "websocket" (default) names the room's standalone-signaling socket in
   * the signaling settings; "internal" keeps them on the long-poll.
   */
  talkSignaling: "websocket" | "internal";
}

export interface LiveKitSettings {
  /** Server API base (`http(s)://…`; a `ws(s)://` address is taken as its `http(s)` twin). */
  url: string;
  /** What clients connect to (`ws(s)://…`); defaults to the server address. */
  publicUrl: string;
  apiKey: string;
  apiSecret: string;
  /** Screen sharing needs a moderator's grant (the reference's `screen_share_requires_permission`). */
  screenShareRequiresPermission: boolean;
}

export interface OidcClient {
  clientId: string;
  /** Empty for public clients (PKCE with S256 required); set for confidential clients. */
  secret: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
}

/** The OpenTalk web app on its development server, the local default client. */
export const DEFAULT_OIDC_CLIENTS: OidcClient[] = [
  {
    clientId: "Frontend",
    secret: "",
    redirectUris: ["http://localhost:3000/auth/callback"],
    postLogoutRedirectUris: ["http://localhost:3000/"],
  },
];

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
    loginMaxFailuresPerAddress: int(vars.EDGETALK_LOGIN_MAX_FAILURES_PER_ADDRESS, 4 * int(vars.EDGETALK_LOGIN_MAX_FAILURES, 5)),
    loginWindow: int(vars.EDGETALK_LOGIN_WINDOW, 300),
    loginSessionTtl: int(vars.EDGETALK_LOGIN_SESSION_TTL, 7 * 24 * 3600),
    oidcClients: parseOidcClients(vars.EDGETALK_OIDC_CLIENTS),
    pushProxies: list(vars.EDGETALK_PUSH_PROXIES).map((p) => p.replace(/\/+$/, "")),
    corsOrigins: vars.EDGETALK_CORS_ORIGINS === undefined ? ["http://localhost:3000"] : list(vars.EDGETALK_CORS_ORIGINS).map((o) => o.replace(/\/+$/, "")),
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
    livekit: parseLiveKit(vars),
    talkSignaling: vars.EDGETALK_TALK_SIGNALING === "internal" ? "internal" : "websocket",
  };
}

/** LiveKit is configured when its address, API key and secret are all set. */
function parseLiveKit(vars: Vars): LiveKitSettings | null {
  const url = (vars.EDGETALK_LIVEKIT_URL ?? "").trim().replace(/\/+$/, "");
  const apiKey = vars.EDGETALK_LIVEKIT_API_KEY ?? "";
  const apiSecret = vars.EDGETALK_LIVEKIT_API_SECRET ?? "";
  if (!url || !apiKey || !apiSecret) return null;
  const publicUrl = (vars.EDGETALK_LIVEKIT_PUBLIC_URL ?? "").trim().replace(/\/+$/, "") || url.replace(/^http/, "ws");
  return {
    url: url.replace(/^ws/, "http"),
    publicUrl,
    apiKey,
    apiSecret,
    screenShareRequiresPermission: vars.EDGETALK_SCREEN_SHARE_REQUIRES_PERMISSION === "1",
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

/**
 * `EDGETALK_OIDC_CLIENTS`: a JSON array of `{client_id, client_secret?, redirect_uris,
 * post_logout_redirect_uris?}`. Unset or empty: the OpenTalk web app's local default.
 * A malformed value is a configuration error, reported on the first request.
 */
function parseOidcClients(value: string | undefined): OidcClient[] {
  if (!value?.trim()) return DEFAULT_OIDC_CLIENTS;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error("EDGETALK_OIDC_CLIENTS must be a JSON array of clients");
  }
  if (!Array.isArray(parsed)) throw new Error("EDGETALK_OIDC_CLIENTS must be a JSON array of clients");
  return parsed.map((entry, i) => {
    const e = (entry ?? {}) as Record<string, unknown>;
    const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string" && x.length > 0) : []);
    if (typeof e.client_id !== "string" || !e.client_id) throw new Error(`EDGETALK_OIDC_CLIENTS[${i}]: client_id is required`);
    const redirectUris = strings(e.redirect_uris);
    if (redirectUris.length === 0) throw new Error(`EDGETALK_OIDC_CLIENTS[${i}]: redirect_uris must list at least one URI`);
    return {
      clientId: e.client_id,
      secret: typeof e.client_secret === "string" ? e.client_secret : "",
      redirectUris,
      postLogoutRedirectUris: strings(e.post_logout_redirect_uris),
    };
  });
}
