/**
 * Debian's Chromium for the browser tests, driven by playwright-core (no browser download).
 * `CHROMIUM_PATH` overrides /usr/bin/chromium. The flags keep Chromium off the network this
 * machine does not have (background services, QUIC) and let it run as root in CI.
 */
import { chromium } from "playwright-core";

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}
