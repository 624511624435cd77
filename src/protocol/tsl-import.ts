import type {
  TslEvent,
  TslImportProblem,
  TslExtra,
  TslImportResult,
  TslModel,
  TslParam,
  TslProperty,
  TslService,
} from './tsl-types';
import { importDataType, importParams, readIdentifier } from './tsl-import-data';
import {
  absent,
  isObj,
  keepRest,
  pick,
  readList,
  readText,
  shortJson,
  withExtra,
  type Obj,
  type Problems,
} from './tsl-import-util';

export { shortJson } from './tsl-import-util';

/**
 * Imports a thing model (物模型) as the OneNET console exports it (产品详情 → 查看/导出物模型) into the
 * normalised TslModel of tsl-types.ts. Pure, runs in the browser too, and never throws: whatever it
 * cannot understand is skipped or replaced by a neutral value and listed in `problems` with its JSON
 * path, next to the model it could build.
 *
 * Accepted (shared/onenet-next.md §1.2, §1.3):
 * - both export generations: current (`version`, `profile`, `combs`, `functionMode`, `required`) and
 *   Studio (`input`/`output`, `callType`, `null` specs); also the Studio API wrapper `{data: {…}}`
 *   and the JSON text instead of the parsed object;
 * - `input`|`inputData`, `output`|`outputData`, `eventType`|`type` (events), `functionType`|`fuctionType`;
 * - array specs `{length, type, specs}` and `{size, items|item: {type, specs}}`;
 * - numbers written as strings (`"min": "-100"`, `"length": "255"`), `null` or `""` for "not given";
 * - the emulator's own earlier format (flat `{type: "int", min, max}`, `values`, `maxLength`,
 *   `fields`, `item`, `inputs`/`outputs`), where `int` means int64 (a safe integer, as it always did),
 *   and a normalised TslModel itself (importing it again gives the same model).
 * Unknown keys are kept in `extra` (per object; a data type's `specs` keys are merged into its `extra`).
 */
export function importThingModel(input: unknown): TslImportResult {
  const problems: TslImportProblem[] = [];
  try {
    return { model: importModel(input, problems), problems };
  } catch (error) {
    // Not expected (the code below guards every access); a last resort so the promise holds.
    problems.push({ path: '', message: `could not read the thing model (${String(error)})` });
    return { model: { properties: [], events: [], services: [] }, problems };
  }
}

/**
 * OneNET's limit on function points per product (onenet-next.md §1.1). Not a problem of the import
 * (a larger model is understood and kept whole); for callers that want to warn about it.
 */
export const MAX_FUNCTION_POINTS = 100;

const POINT_KEYS = ['identifier', 'name', 'desc', 'functionType', 'fuctionType', 'required'];

function importPoint(entry: Obj, identifier: string, at: string, problems: Problems) {
  const [typeKey, functionType] = pick(entry, ['functionType', 'fuctionType']);
  const point = {
    identifier,
    name: readText(entry.name, `${at}.name`, problems),
    desc: readText(entry.desc, `${at}.desc`, problems),
    functionType: readText(functionType, `${at}.${typeKey}`, problems),
  } as { identifier: string; name: string; desc: string; functionType: string; required?: boolean };
  const required = entry.required;
  if (typeof required === 'boolean') point.required = required;
  else if (required === 'true' || required === 'false') point.required = required === 'true';
  else if (!absent(required))
    problems.push({
      path: `${at}.required`,
      message: `${at}.required is ${shortJson(required)}, not true/false: ignored`,
    });
  return point;
}

function importPoints<T>(
  value: unknown,
  path: string,
  problems: Problems,
  build: (entry: Obj, identifier: string, at: string, extra: TslExtra) => T,
): T[] {
  const seen = new Set<string>();
  const points: T[] = [];
  readList(value, path, problems).forEach((entry, i) => {
    const at = `${path}[${i}]`;
    const identifier = readIdentifier(entry, at, problems, seen);
    if (identifier !== undefined && isObj(entry)) points.push(build(entry, identifier, at, {}));
  });
  return points;
}

function importModel(input: unknown, problems: Problems): TslModel {
  let json = input;
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json);
    } catch {
      problems.push({ path: '', message: 'the text is not valid JSON' });
      json = {};
    }
  }
  if (!isObj(json)) {
    problems.push({
      path: '',
      message: `the thing model is ${shortJson(json)}, not an object with properties, events and services`,
    });
    json = {};
  }
  let root = json as Obj;
  const lists = ['properties', 'events', 'services'];
  // The Studio API answers {"data": {"properties": […], …}, "requestId", "success"}.
  if (isObj(root.data) && !lists.some((key) => key in root)) root = root.data;
  const properties = importPoints<TslProperty>(
    root.properties,
    'properties',
    problems,
    (entry, identifier, at, extra) => {
      keepRest(entry, [...POINT_KEYS, 'accessMode', 'dataType'], extra);
      let accessMode: 'r' | 'rw' = 'rw';
      if (entry.accessMode === 'r' || entry.accessMode === 'rw') accessMode = entry.accessMode;
      else if (!absent(entry.accessMode))
        problems.push({
          path: `${at}.accessMode`,
          message: `${at}.accessMode ${shortJson(entry.accessMode)} is not "r" or "rw": "rw" is used`,
        });
      const dataType = importDataType(entry.dataType, `${at}.dataType`, problems, 0);
      return withExtra({ ...importPoint(entry, identifier, at, problems), accessMode, dataType }, extra);
    },
  );
  const params = (entry: Obj, keys: string[], at: string): TslParam[] => {
    const [key, list] = pick(entry, keys);
    return importParams(readList(list, `${at}.${key}`, problems), `${at}.${key}`, problems, 0);
  };
  const events = importPoints<TslEvent>(root.events, 'events', problems, (entry, identifier, at, extra) => {
    keepRest(entry, [...POINT_KEYS, 'eventType', 'type', 'outputData', 'output', 'outputs'], extra);
    const [typeKey, eventType] = pick(entry, ['eventType', 'type']);
    const point = importPoint(entry, identifier, at, problems);
    const output = params(entry, ['outputData', 'output', 'outputs'], at);
    return withExtra(
      { ...point, eventType: readText(eventType, `${at}.${typeKey}`, problems), output },
      extra,
    );
  });
  const services = importPoints<TslService>(
    root.services,
    'services',
    problems,
    (entry, identifier, at, extra) => {
      keepRest(
        entry,
        [...POINT_KEYS, 'callType', 'inputData', 'input', 'inputs', 'outputData', 'output', 'outputs'],
        extra,
      );
      const point = importPoint(entry, identifier, at, problems);
      let callType = readText(entry.callType, `${at}.callType`, problems);
      if (callType === 'sync' || callType === 'async') callType = callType[0]!;
      const input = params(entry, ['inputData', 'input', 'inputs'], at);
      const output = params(entry, ['outputData', 'output', 'outputs'], at);
      return withExtra({ ...point, callType, input, output }, extra);
    },
  );
  const extra: TslExtra = {};
  keepRest(root, lists, extra);
  return withExtra({ properties, events, services }, extra);
}
