/**
 * One error class per API dialect. Handlers throw; `app.onError` shapes the response once.
 * - OcsError: Nextcloud OCS envelope (`{ocs:{meta,data}}`), JSON or XML.
 * - OpenTalkError: OpenTalk controller body `{code, message}` (`text/json`).
 */

export class OcsError extends Error {
  constructor(
    readonly status: number,
    readonly data: unknown = [],
    message = "",
    readonly statuscode: number = status === 401 ? 997 : status,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** `{error: reason}` 400/403/404… as Talk controllers answer. */
export function ocsFail(status: number, reason?: string, extra: Record<string, unknown> = {}): OcsError {
  return new OcsError(status, reason === undefined ? [] : { error: reason, ...extra });
}

export const ocsNotLoggedIn = () => new OcsError(401, [], "Current user is not logged in", 997);

export interface ValidationEntry {
  field?: string;
  code: string;
  message?: string;
}

export class OpenTalkError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.extra };
  }

  static badRequest(message = "Invalid request due to malformed syntax", code = "bad_request") {
    return new OpenTalkError(400, code, message);
  }
  static unauthorized(message = "Authentication failed", code = "unauthorized", headers: Record<string, string> = {}) {
    return new OpenTalkError(401, code, message, {}, headers);
  }
  static forbidden(message = "Access to the requested resource is forbidden", code = "forbidden") {
    return new OpenTalkError(403, code, message);
  }
  static notFound(message = "A requested resource could not be found") {
    return new OpenTalkError(404, "not_found", message);
  }
  static conflict(message = "The request conflicts with the state of the resource", code = "conflict") {
    return new OpenTalkError(409, code, message);
  }
  static validation(entries: ValidationEntry[]) {
    return new OpenTalkError(422, "validation_failed", "Some provided values are invalid", {
      validation_errors: entries,
    });
  }
  static invalidJson(message: string) {
    return new OpenTalkError(400, "invalid_json", message);
  }
}

/** The reference's framework answers bad query strings with a plain-text 400. */
export class PlainTextError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const OPENTALK_ERROR_CONTENT_TYPE = "text/json; charset=utf-8";
