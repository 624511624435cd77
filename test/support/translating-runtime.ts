import { interpolate, resolveKey, type Language } from '../editor/catalogs';

/**
 * node-red-node-test-helper gives the nodes a RED._ that returns the key it is asked for, so a test
 * sees "…:onenet-device.warn.release-failed" and never the substitutions. Loaded with the nodes, this
 * module gives the runtime a RED._ that looks keys up in our real catalogues and fills in `__name__`
 * placeholders as Node-RED's i18next does, so a test reads the text a user of `language` gets.
 */
export function translatingRuntime(language: Language): (RED: never) => void {
  return (RED: never) => {
    (RED as { _: unknown })._ = (key: string, substitutions?: Record<string, unknown>): string => {
      const text = resolveKey(language, 'onenet-device', key);
      return text === undefined ? key : interpolate(text, substitutions);
    };
  };
}
