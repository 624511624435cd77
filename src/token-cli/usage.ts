/** `onenet-token --help`. Kept apart from the parser so the text reads as one piece. */
export const USAGE = `Usage: onenet-token --product <id> --device <name> [--key <base64> | --key -]
                    [--method sha256|sha1|md5] [--expires <when> | --ttl <seconds>]
                    [--res device|product]

Signs a OneNET login token, for use as the MQTT password (MQTTX, mosquitto_pub, a microcontroller):
client id = the device name, username = the product id. Only the token goes to stdout, so
TOKEN=$(onenet-token ...) captures just the token; what was signed is described on stderr.

  --product <id>     product id (产品ID)
  --device <name>    device name (设备名称); optional with --res product
  --key <base64>     the device key (设备密钥) or the product access key, as the OneNET console shows it;
                     "-" reads it from stdin. Without --key: $ONENET_KEY, else stdin if it is not a terminal.
                     A key on the command line stays in the shell history: prefer ONENET_KEY or stdin.
  --method <m>       HMAC of the signature: sha256 (default), sha1 or md5
  --expires <when>   expiry: 2030-01-01 (midnight UTC), 2030-01-01T08:00+08:00, or unix seconds
  --ttl <seconds>    expiry this many seconds from now (default 2592000, 30 days)
  --res <level>      what the token signs for:
                       device   res=products/{id}/devices/{name} (default; device key or product access key)
                       product  res=products/{id} (一型一密, product access key; OneNET's acceptance of
                                this on MQTT login is not confirmed by its documentation)
  -h, --help         this text

Exit code 0 on success, 2 on a wrong command line or key. The key is never printed.`;
