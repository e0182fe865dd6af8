import type { InboundMessage, MessageButton } from '@convoflow/engine';

/**
 * Finds the button a reply chose: by the pressed button's id (`replyTo`), else by its title typed
 * in any case, else by its number in the list (`2` or `2.` for the second button).
 *
 * Pure.
 */
export function matchButton(buttons: MessageButton[], message: InboundMessage): MessageButton | undefined {
  if (message.replyTo !== undefined) {
    const pressed = buttons.find((b) => b.id === message.replyTo);
    if (pressed) return pressed;
  }
  const text = normalise(message.text ?? '');
  if (text === '') return undefined;
  const byTitle = buttons.find((b) => normalise(b.title) === text);
  if (byTitle) return byTitle;
  const number = /^(\d{1,2})[.)]?$/.exec(text)?.[1];
  return number === undefined ? undefined : buttons[Number(number) - 1];
}

const normalise = (text: string): string => text.trim().replace(/\s+/g, ' ').toLowerCase();
