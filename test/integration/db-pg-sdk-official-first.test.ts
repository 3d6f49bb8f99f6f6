import { sdkScenario } from './db-pg-sdk-scenario.js';

// The user's config already has the official pg instrumentation (as auto-instrumentations-node does).
sdkScenario('official-first');
