import assert from 'node:assert/strict';
import { deployFlows } from '../../src/demo/node-red-process';
import { EditorPage } from './editor-page';
import { startEditorSession, type EditorSession } from './editor-session';

/**
 * The hooks a browser test suite shares: one Node-RED with the packed package and the emulator for
 * the suite, an empty deployed workspace before each test, and withEditor(), which opens a fresh
 * editor tab, keeps a screenshot when the body fails, and checks the page threw nothing.
 */
export function useEditorSession(): {
  readonly session: EditorSession;
  withEditor: (name: string, body: (editor: EditorPage) => Promise<void>) => Promise<void>;
} {
  let session: EditorSession | undefined;

  before(async function () {
    this.timeout(180_000);
    session = await startEditorSession();
  });

  after(async () => {
    await session?.close();
  });

  // Every test starts from an empty deployed workspace and a fresh editor tab.
  beforeEach(async () => {
    await deployFlows(current().url, []);
  });

  function current(): EditorSession {
    if (!session) throw new Error('the editor session starts in before()');
    return session;
  }

  return {
    get session(): EditorSession {
      return current();
    },
    async withEditor(name, body) {
      const editor = await EditorPage.open(current());
      try {
        await body(editor);
        assert.deepEqual(editor.pageErrors, [], 'uncaught errors in the editor page');
      } catch (error) {
        await editor.screenshot(`failed-${name}`).catch(() => undefined);
        throw error;
      } finally {
        await editor.close();
      }
    },
  };
}
