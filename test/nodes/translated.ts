import { interpolate, resolveKey, type Language } from '../editor/catalogs';
import {
  ALL_NODES,
  TAB,
  credentials,
  helper,
  type Credentials,
  type FlowNode,
  type NodeModule,
} from './support';

/**
 * node-red-node-test-helper gives the nodes a RED._ that returns the key it is asked for, so a test
 * sees "…:onenet-device.warn.release-failed" and never the substitutions. These loaders give the
 * runtime a RED._ that looks keys up in our real catalogues and fills in `__name__` placeholders as
 * Node-RED's i18next does, so a test can read the text a user of `language` gets.
 */
export function translatingRuntime(language: Language): NodeModule {
  return ((RED: { _: unknown }) => {
    RED._ = (key: string, substitutions?: Record<string, unknown>): string => {
      const text = resolveKey(language, 'onenet-device', key);
      return text === undefined ? key : interpolate(text, substitutions);
    };
  }) as NodeModule;
}

/** support.load, with messages in `language`. */
export async function loadTranslated(
  language: Language,
  flow: FlowNode[],
  creds: Credentials = credentials(),
): Promise<void> {
  await helper.load(
    [...ALL_NODES, translatingRuntime(language)],
    [{ id: TAB, type: 'tab', label: 'test' }, ...flow],
    creds,
  );
}
