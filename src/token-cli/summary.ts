import type { TokenFields } from '../protocol';
import { formatEt } from './expiry';

/**
 * What `onenet-token` tells the person on stderr: the fields it signed, so a refused login can be
 * checked against them, and the MQTT fields that go with the token. Never the key, never the token.
 */

export interface SummaryInput {
  fields: Omit<TokenFields, 'sign'>;
  productId: string;
  deviceName: string | undefined;
  nowSeconds: number;
}

export function summaryLines({ fields, productId, deviceName, nowSeconds }: SummaryInput): string[] {
  const lines = [
    'Signed (the token is on stdout):',
    `  res       ${fields.res}`,
    `  et        ${fields.et} = ${formatEt(fields.et)}`,
    `  method    ${fields.method}`,
    `  version   ${fields.version}`,
    'MQTT login (MQTT 3.1.1):',
    `  client id ${deviceName ?? 'the device name (this product-level token does not name it)'}`,
    `  username  ${productId}`,
    '  password  the token',
  ];
  if (fields.et <= nowSeconds) {
    lines.push(
      `warning: this token expired at ${formatEt(fields.et)}; OneNET refuses it (et is in the past)`,
    );
  }
  return lines;
}
