/**
 * GET /v1/models/<name>[/versions/1]: GetModelStatusResponse, the one version in the state the
 * server is in; GET .../metadata: GetModelMetadataResponse, the predict signature (none for a model
 * without the masked-LM head).
 */
import type { Handler, ServerState } from '../../route.js';
import { checkServable } from './servable-path.js';
import { INPUTS, OUTPUT, SIGNATURE_NAME, VERSION } from './signature.js';

const STATE: Record<ServerState, 'LOADING' | 'AVAILABLE' | 'UNLOADING'> = { loading: 'LOADING', ready: 'AVAILABLE', closing: 'UNLOADING' };

export const modelStatusHandler: Handler = async ({ params, server }) => {
  checkServable(params, 'status', server.settings.modelName);
  return { jsonText: JSON.stringify({ model_version_status: [{ version: VERSION, state: STATE[server.state], status: { error_code: 'OK', error_message: '' } }] }) };
};

function tensorInfo(name: string, dtype: 'DT_INT32' | 'DT_FLOAT'): Record<string, unknown> {
  return { dtype, tensor_shape: { dim: [{ size: '-1', name: '' }, { size: '-1', name: '' }], unknown_rank: false }, name: `${name}:0` };
}

export const modelMetadataHandler: Handler = async (exchange) => {
  const { modelName } = exchange.server.settings;
  checkServable(exchange.params, 'metadata', modelName);
  const signatures = exchange.readyEncoder().heads.includes('maskedLm')
    ? {
        [SIGNATURE_NAME]: {
          inputs: Object.fromEntries(INPUTS.map((name) => [name, tensorInfo(name, 'DT_INT32')])),
          outputs: { [OUTPUT]: tensorInfo(OUTPUT, 'DT_FLOAT') },
          method_name: 'tensorflow/serving/predict',
        },
      }
    : {};
  return {
    jsonText: JSON.stringify({
      model_spec: { name: modelName, signature_name: '', version: VERSION },
      metadata: { signature_def: { signature_def: signatures } },
    }),
  };
};
