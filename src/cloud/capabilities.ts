/**
 * The Nextcloud (non-Talk) capabilities the stock clients read: `theming` (Talk Desktop's title bar
 * reads name, colour and logo unguarded), `user_status` and `notifications` with `push` (the
 * mobile apps register for push only when it is listed).
 */
export const BRAND_COLOR = "#0b6bcb";

export function nextcloudCapabilities(origin: string) {
  return {
    theming: {
      name: "EdgeTalk",
      productName: "EdgeTalk",
      url: origin,
      docs: `${origin}/docs`,
      slogan: "Meetings and conversations at the edge",
      color: BRAND_COLOR,
      "color-text": "#ffffff",
      "color-element": BRAND_COLOR,
      "color-element-bright": BRAND_COLOR,
      "color-element-dark": "#3d8fe0",
      logo: `${origin}/core/img/logo/logo.svg`,
      background: BRAND_COLOR,
      "background-text": "#ffffff",
      "background-plain": true,
      "background-default": true,
      logoheader: `${origin}/core/img/logo/logo.svg`,
      favicon: `${origin}/core/img/logo/logo.svg`,
    },
    user_status: { enabled: true, restore: false, supports_emoji: true, supports_busy: true },
    notifications: {
      "ocs-endpoints": ["list", "delete", "delete-all"],
      push: ["devices", "object-data", "delete"],
      "admin-notifications": [],
    },
  };
}

/** The logo the theming capability names: the brand colour with a speech bubble. */
export const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64"><rect width="64" height="64" rx="14" fill="${BRAND_COLOR}"/><path d="M14 18h36a4 4 0 0 1 4 4v18a4 4 0 0 1-4 4H30l-10 8v-8h-6a4 4 0 0 1-4-4V22a4 4 0 0 1 4-4z" fill="#fff"/></svg>`;
