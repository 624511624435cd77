import type { Language } from '../editor/catalogs';
import { translatingRuntime } from '../support/translating-runtime';
import { ALL_NODES, TAB, credentials, helper, type Credentials, type FlowNode } from './support';

/** support.load, with warnings and errors in `language` (see translatingRuntime). */
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
