/** Versions EdgeTalk reports to clients (the Nextcloud / Talk releases whose API it serves). */
export const EDGETALK_VERSION = {
  edgetalk: "0.1.0",
  nextcloud: "31.0.0",
  nextcloudString: "31.0.0",
  nextcloudMajor: 31,
  talk: "21.0.0",
} as const;
