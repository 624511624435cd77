import type { MqttClient } from 'mqtt';

/**
 * Ends an MQTT.js client within `forceAfterMs`. Graceful (when connected): MQTT.js waits for the
 * PUBACKs of QoS 1 publishes in flight, then sends DISCONNECT, so a planned end loses nothing. It
 * ignores a second end() while the first is pending, so one that hangs (a broker that stopped
 * answering) is forced by destroying the socket. Never rejects.
 */
export function endClient(client: MqttClient, graceful: boolean, forceAfterMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(force);
      resolve();
    };
    const force = setTimeout(() => {
      client.stream?.destroy();
      finish();
    }, forceAfterMs);
    try {
      client.end(!(graceful && client.connected), {}, finish);
    } catch {
      client.stream?.destroy();
      finish();
    }
  });
}
