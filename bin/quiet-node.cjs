// Loaded into every Node process `npx` starts from this project (.npmrc `node-options`): the settings
// `make` exports, so `npx cdktf deploy …` is as quiet as `make synth`. CHECKPOINT_DISABLE: no
// telemetry lookup (its failure printed a red [ERROR]); JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION:
// no Node end-of-life banner from the jsii runtime. A value the user set is kept.
process.env.CHECKPOINT_DISABLE ??= "1";
process.env.JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ??= process.versions.node.split(".")[0];
