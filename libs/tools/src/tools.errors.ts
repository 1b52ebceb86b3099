import { AppError } from '@parley/core';

/*
 * Statuses of a tool's outbound HTTP call:
 * - 422 when Parley refuses the call by policy or the tool's request is malformed: fixing the
 *   tool definition or the tools policy fixes it, retrying does not.
 * - 502 when the remote side failed or misbehaved (refused the connection, bad redirect,
 *   oversized answer).
 * - 504 when it did not answer in time: that is what a gateway timeout means, and retry logic
 *   and clients treat 504 differently from a broken upstream.
 * Messages name at most a host, never header values, paths or query strings: those may hold the
 * tenant's secrets, and an LLM may see the message.
 */

/** The URL's host (first request or any redirect hop) is not on the tool's allowlist. */
export class OutboundHostNotAllowedError extends AppError {
  constructor(readonly hostname: string) {
    super(
      'TOOL_HOST_NOT_ALLOWED',
      422,
      `The tool may not call the host "${hostname}": it is not on the tool's allowed hosts. Add it (or a "*.domain" entry covering it) to allowedHosts to permit it.`,
    );
  }
}

/** The host is, or resolved to, an address outside the public internet. */
export class OutboundAddressRefusedError extends AppError {
  /** `literal`: the URL held the address itself, so naming it reveals nothing new. */
  constructor(
    readonly hostname: string,
    literal: boolean,
  ) {
    // A resolved address is left out: it would let a tenant map internal DNS names.
    super(
      'TOOL_ADDRESS_REFUSED',
      422,
      `${
        literal
          ? `The address ${hostname} is`
          : `The host "${hostname}" resolved to an address that is`
      } private, loopback, link-local or otherwise not on the public internet, so tools may not call it. If this tool must reach an internal service, an operator can allow private networks in the tools configuration.`,
    );
  }
}

/** The tool's request itself is unusable: bad URL, scheme, credentials, method or header. */
export class OutboundRequestInvalidError extends AppError {
  constructor(reason: string) {
    super('TOOL_REQUEST_INVALID', 422, `The tool's HTTP request is invalid: ${reason}.`);
  }
}

export class OutboundTimeoutError extends AppError {
  constructor(timeoutMs: number) {
    super(
      'TOOL_TIMEOUT',
      504,
      `The tool's HTTP call did not complete within ${timeoutMs} ms (redirects included). Try again, or raise the tool's timeout if the service is known to be slow.`,
      { logLevel: 'warn' },
    );
  }
}

export class OutboundResponseTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super(
      'TOOL_RESPONSE_TOO_LARGE',
      502,
      `The tool's HTTP response is larger than the limit of ${limitBytes} bytes, so it was cut off and discarded. Ask the service for less (filters, paging) or raise the tool's response limit.`,
      { logLevel: 'warn' },
    );
  }
}

/** The remote call failed: connection, TLS, DNS, or a redirect Parley will not follow. */
export class OutboundRequestFailedError extends AppError {
  constructor(hostname: string, reason: string, cause?: unknown) {
    super('TOOL_REQUEST_FAILED', 502, `The tool's HTTP call to "${hostname}" failed: ${reason}.`, {
      logLevel: 'warn',
      cause,
    });
  }
}

/**
 * An argument filled into the path of a tool's URL would change the path: a "." or ".." segment,
 * or a slash or backslash (also percent-encoded). Nothing is sent; the model may call again with
 * another value. Names the argument, never its value.
 */
export class ToolPathArgumentError extends AppError {
  constructor(argument: string) {
    super(
      'TOOL_PATH_ARGUMENT_REFUSED',
      422,
      `The argument "${argument}" would change the path of the tool's URL (a "." or ".." segment, or a slash or backslash, also percent-encoded), so the call was not made. Call it again with a value that is a single path segment.`,
    );
  }
}

/**
 * The caller's role may not enable these tools on a conversation (each tool's `enableRoles`).
 * An API key acts with its creator's role.
 */
export class ToolEnableForbiddenError extends AppError {
  constructor(
    refused: { name: string; enableRoles: readonly string[] }[],
    role: string | undefined,
    kind: 'user' | 'apiKey',
  ) {
    const who =
      kind === 'apiKey'
        ? `this API key acts with its creator's role (${role ?? 'none'})`
        : `your role is ${role ?? 'none'}`;
    const tools = refused
      .map((t) => `only ${t.enableRoles.join(' or ')} may enable "${t.name}"`)
      .join('; ');
    super(
      'TOOL_ENABLE_FORBIDDEN',
      403,
      `You may not enable ${refused.length === 1 ? 'this tool' : 'these tools'} on a conversation: ${tools} (the tool's enableRoles), and ${who}. Ask a tenant admin to enable it for you, or to add your role to the tool's enableRoles.`,
      { extensions: { tools: refused.map((t) => ({ name: t.name, enableRoles: t.enableRoles })) } },
    );
  }
}

/** A conversation names a tool that is not defined (or not enabled) in the tenant. */
export class ToolNotFoundError extends AppError {
  constructor(name: string, builtIns: string[]) {
    super(
      'TOOL_NOT_FOUND',
      400,
      `There is no enabled tool "${name}" in your tenant (built-ins: ${builtIns.join(', ')}).`,
    );
  }
}

/** Tool names are unique per tenant. */
export class ToolNameTakenError extends AppError {
  constructor(name: string) {
    super('CONFLICT', 409, `Your tenant already has a tool named "${name}".`);
  }
}
