import { sdkScenario } from './db-pg-sdk-scenario.js';

// withSelfHealing adds the official pg instrumentation after constructing the plugin.
sdkScenario('ours-first');
