/** TF Serving's paths, /v1/models/<name>[/versions/<n>][:verb|/metadata], as its REST handler splits them. */
import { httpError } from '../../http-error.js';
import { VERSION } from './signature.js';

export type TfServingVerb = 'status' | 'metadata' | 'predict' | 'classify' | 'regress';

const PATH = /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d+))?(?:(\/metadata)|:(predict|classify|regress))?$/;

/** The route table's test for one verb's paths: the model name and version, or undefined. */
export function servablePath(verb: TfServingVerb): (pathname: string) => { model: string; version: string | undefined } | undefined {
  return (pathname) => {
    const match = PATH.exec(pathname);
    if (!match) return undefined;
    const [, name, version, metadata, call] = match;
    if ((metadata ? 'metadata' : (call ?? 'status')) !== verb) return undefined;
    try {
      return { model: decodeURIComponent(name), version };
    } catch {
      return undefined;
    }
  };
}

/** 404 unless the path names the served model (and its one version, "1"), in TF Serving's words. */
export function checkServable(params: Readonly<Record<string, string | undefined>>, verb: TfServingVerb, modelName: string): void {
  const { model, version } = params;
  if (model !== modelName) {
    const message = verb === 'status' ? `Could not find any versions of model ${model}` : `Servable not found for request: ${version ? `Specific(${model}, ${version})` : `Latest(${model})`}`;
    throw httpError('ERR_NOT_FOUND', message);
  }
  if (version !== undefined && Number(version) !== Number(VERSION)) {
    throw httpError('ERR_NOT_FOUND', `Servable not found for request: Specific(${model}, ${version})`);
  }
}
