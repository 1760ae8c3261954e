/* global oidc */
// The test page's client code: oidc-client-ts used the way the OpenTalk web app signs in.
const { authority } = window.EDGETALK;
const manager = new oidc.UserManager({
  authority,
  client_id: "Frontend",
  redirect_uri: `${location.origin}/callback.html`,
  post_logout_redirect_uri: `${location.origin}/`,
  response_type: "code",
  scope: "openid profile email",
  userStore: new oidc.WebStorageStateStore({ store: window.localStorage }),
  automaticSilentRenew: false,
  loadUserInfo: false,
});

/** The web app decodes both tokens as JWTs (iat for clock offset, exp for renewal and sessions). */
function claims(jwt) {
  const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
}

async function me(accessToken) {
  const res = await fetch(`${authority}/v1/users/me`, { headers: { Authorization: `Bearer ${accessToken}` } });
  return { status: res.status, body: await res.json() };
}

async function report(user, step) {
  const access = claims(user.access_token);
  const refresh = claims(user.refresh_token);
  window.result = {
    step,
    accessToken: user.access_token,
    refreshToken: user.refresh_token,
    access: { iat: access.iat, exp: access.exp, sub: access.sub },
    refresh: { exp: refresh.exp },
    me: await me(user.access_token),
  };
  document.getElementById("out").textContent = JSON.stringify(window.result, null, 2);
}

function fail(err) {
  window.result = { step: "error", error: String(err?.message ?? err) };
  document.getElementById("out").textContent = window.result.error;
}

document.getElementById("signin").addEventListener("click", () => manager.signinRedirect({ state: { from: "test" } }).catch(fail));
document.getElementById("renew").addEventListener("click", () => manager.signinSilent().then((user) => report(user, "renewed")).catch(fail));
document.getElementById("signout").addEventListener("click", async () => {
  // As redux-oidc does: end_session_endpoint with client_id and post_logout_redirect_uri only.
  const metadata = await manager.metadataService.getMetadata();
  await manager.removeUser();
  const url = new URL(metadata.end_session_endpoint);
  url.searchParams.set("client_id", "Frontend");
  url.searchParams.set("post_logout_redirect_uri", `${location.origin}/`);
  location.assign(url.toString());
});

if (location.pathname === "/callback.html") {
  manager.signinRedirectCallback().then((user) => report(user, "signed-in")).catch(fail);
} else {
  window.result = { step: "ready" };
}
