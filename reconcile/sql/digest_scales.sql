-- walletctl digest verify: every asset's scale, to show amounts.
SELECT code, scale FROM assets
