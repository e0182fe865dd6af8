import type { JsonObject } from './json.js';
import type { ChannelId } from './flow/types.js';

/** A button or quick reply offered to the contact. `id` is also the node output it leads to. */
export interface MessageButton {
  id: string;
  title: string;
}

/** One row of a list message. */
export interface MessageListRow {
  id: string;
  title: string;
  description?: string;
}

/**
 * A canonical outbound message. Channels degrade kinds they cannot render (a list becomes numbered
 * text on SMS, for example); see the channel capability layer in the runtime.
 */
export type OutboundMessage =
  | { kind: 'text'; text: string }
  | { kind: 'media'; mediaType: 'image' | 'video' | 'audio' | 'file'; url: string; caption?: string; filename?: string }
  | { kind: 'buttons'; text: string; buttons: MessageButton[] }
  | { kind: 'list'; text: string; buttonText: string; rows: MessageListRow[] }
  | { kind: 'template'; name: string; language: string; variables: string[] }
  | { kind: 'location'; latitude: number; longitude: number; name?: string; address?: string };

/** A message from a contact, normalised from any channel's webhook payload. */
export interface InboundMessage {
  /** Provider message id; with `channel` it is the dedupe key. */
  id: string;
  channel: ChannelId;
  /** Provider-side id of the sender (phone number, PSID, chat id, ...). */
  from: string;
  /** Text of the message, or the title of the button pressed. */
  text?: string;
  /** Id of the button or list row pressed, when the message is a reply to one. */
  replyTo?: string;
  media?: { mediaType: 'image' | 'video' | 'audio' | 'file'; url: string };
  location?: { latitude: number; longitude: number };
  /** When the provider says it was sent, epoch milliseconds. */
  sentAt: number;
  raw?: JsonObject;
}
