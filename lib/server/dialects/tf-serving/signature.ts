/**
 * The one signature, "serving_default", of a TF Serving deployment of BERT's masked-LM head: the
 * features of BERT's create_pretraining_data.py in, each slot's loss out.
 */
export const SIGNATURE_NAME = 'serving_default';
/** the one version served */
export const VERSION = '1';
export const INPUTS = ['input_ids', 'input_mask', 'segment_ids', 'masked_lm_positions', 'masked_lm_ids'] as const;
export const OUTPUT = 'masked_lm_example_loss';
export type InputName = (typeof INPUTS)[number];
