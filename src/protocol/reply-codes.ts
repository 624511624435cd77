/**
 * Reply codes (shared/onenet-protocol.md §3.2). 200 is the only code the docs define on the wire;
 * the others are OneNET's device-log codes, which the emulator uses for its error replies and which
 * are the best explanation available when the platform answers with one of them.
 */

export interface ReplyCodeInfo {
  en: string;
  zh: string;
}

export const SUCCESS_CODE = 200;
/** What the official C SDK replies when a device handler fails. */
export const DEVICE_FAILURE_CODE = 100;

export const REPLY_CODES: Readonly<Record<number, ReplyCodeInfo>> = {
  100: { en: 'device failed to handle the request', zh: '设备处理请求失败' },
  200: { en: 'success', zh: '成功' },
  301: { en: 'json format error', zh: 'JSON 格式错误' },
  302: { en: 'data type error', zh: '数据类型错误' },
  303: { en: 'internal error', zh: '平台内部错误' },
  304: { en: 'response error', zh: '响应错误' },
  305: { en: 'no thing model', zh: '产品未定义物模型' },
  306: { en: 'timeout', zh: '超时' },
  307: { en: 'invalid product id or device name', zh: '产品 ID 或设备名称无效' },
  308: { en: 'device not online', zh: '设备不在线' },
  309: { en: 'identifier not exist', zh: '标识符不存在' },
  310: { en: 'MQTT access error', zh: 'MQTT 接入错误' },
  311: { en: 'CoAP access error', zh: 'CoAP 接入错误' },
  312: {
    en: 'invalid msg id (must be a numeric string of at most 13 digits)',
    zh: '消息 id 不合法（须为不超过 13 位的数字字符串）',
  },
  313: { en: 'bad request', zh: '请求错误' },
  1001: { en: 'rpc failed', zh: 'RPC 调用失败' },
  1002: { en: 'thing model error', zh: '物模型错误' },
  1021: { en: 'channel not writable', zh: '通道不可写' },
  1022: {
    en: 'subscription not exist (device has not subscribed the topic)',
    zh: '订阅不存在（设备未订阅该主题）',
  },
  1023: { en: 'device replied but timeout', zh: '设备响应超时' },
  1024: { en: 'session not exist', zh: '会话不存在' },
  1025: { en: 'duplicate id', zh: '消息 id 重复' },
  1026: { en: 'internal error', zh: '内部错误' },
  1027: { en: 'invalid id field or json format error', zh: 'id 字段错误或 JSON 格式错误' },
  1028: { en: 'id not found', zh: '找不到对应的消息 id' },
};

export type ReplyLanguage = 'en' | 'zh';

/** A one-line explanation of a reply code, in the language asked for. */
export function describeReplyCode(code: number, language: ReplyLanguage = 'en'): string {
  const info = REPLY_CODES[code];
  if (info) return info[language];
  return language === 'zh' ? `未知返回码 ${code}` : `unknown reply code ${code}`;
}
