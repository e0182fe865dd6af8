import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { problemDocument } from './problem.js';
import { PROBLEM_JSON } from './error-handler.js';

/** What Node's HTTP parser reports for a request it could not read. */
interface ClientError extends Error {
  code?: string;
}

/**
 * A `clientError` listener for `http.Server`: a request Node's parser refuses (headers over
 * `maxHeaderSize`, a malformed request line or header, a body framed two ways) never reaches the
 * app, and Node's own answer is a bare status line. This answers it as the app answers every bad
 * input: a problem document naming what was wrong. The connection is closed after it, since the
 * parser cannot find where the next request would start.
 *
 * @example
 * createServer(requestListener(app)).on('clientError', answerClientError);
 */
export function answerClientError(err: ClientError, socket: Duplex): void {
  // Gone, or written to already: nothing can be answered.
  const inProgress = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inProgress?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, field, message, detail } = describe(err);
  const body = JSON.stringify(problemDocument(status, status === 431 ? 'headers-too-large' : 'bad-request', detail, '', { errors: [{ field, message }] }));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\n` +
      `Content-Type: ${PROBLEM_JSON}; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function describe(err: ClientError): { status: number; field: string; message: string; detail: string } {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, field: 'headers', message: 'exceed 16 KiB with the request line', detail: 'The request line and headers exceed 16 KiB; send long values in the body.' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, field: 'request', message: 'did not arrive in time', detail: 'The request was not received in time.' };
    case 'HPE_INVALID_METHOD':
    case 'HPE_INVALID_URL':
      return { status: 400, field: 'request', message: 'is not an HTTP/1.1 request line', detail: 'The request line is not valid HTTP/1.1.' };
    default:
      return { status: 400, field: 'headers', message: 'could not be parsed', detail: `The request could not be parsed: ${err.message}.` };
  }
}
