#!/usr/bin/env node
// The `iommu-lens` CLI (bundled by `npm run build`).
require('../dist/cli.cjs');
