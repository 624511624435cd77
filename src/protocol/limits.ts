/**
 * OneNET's fixed numbers, with the section of shared/onenet-protocol.md they come from.
 * Kept in one place so the client and the emulator can never disagree about them.
 */

/** §1.3: "上行publish报文最大为256K，超限后断开连接". */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** §1.3: keepalive must be within [10, 1800] seconds. */
export const KEEPALIVE_MIN_SECONDS = 10;
export const KEEPALIVE_MAX_SECONDS = 1800;

/** §1.6: message ids are numeric strings of at most 13 digits. */
export const MAX_MESSAGE_ID_DIGITS = 13;

/** §1.6: synchronous platform requests time out after 5 s. */
export const PLATFORM_REPLY_DEADLINE_MS = 5000;

/** §1.3: at most 8 filters in one SUBSCRIBE packet. */
export const MAX_FILTERS_PER_SUBSCRIBE = 8;

/** §1.4 (Studio mqtt-limit.md): 10 subscriptions per session. */
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION = 10;

/** §2.2: the only token version devices use. */
export const DEVICE_TOKEN_VERSION = '2018-10-31';

/** The version string the thing-model requests carry (§3, "version optional, default 1.0"). */
export const THING_MODEL_VERSION = '1.0';
