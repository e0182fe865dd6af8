const NAMES: Record<string, string> = {
  whatsapp: 'WhatsApp',
  messenger: 'Messenger',
  instagram: 'Instagram',
  wechat: 'WeChat',
  line: 'LINE',
  telegram: 'Telegram',
  viber: 'Viber',
  sms: 'SMS',
  webchat: 'web chat',
  simulator: 'the simulator',
};

/** @internal `WhatsApp, SMS and WeChat`: channel ids as a business user knows them. */
export function channelNames(ids: readonly string[]): string {
  const names = ids.map((id) => NAMES[id] ?? id);
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
