#!/usr/bin/env node
// The IOMMU Lens language server for any LSP editor: `iommu-lens-server --stdio`.
require('../dist/server.cjs');
