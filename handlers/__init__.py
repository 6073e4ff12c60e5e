"""FC 3.0 code package: copy, restore, unzip and trigger handlers (imports only the SDKs and itself)."""
