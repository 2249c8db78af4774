/**
 * The public API version: the OpenAPI document's `info.version` and the `api_version` of
 * `GET /v1/capabilities` come from this one constant (ORCH-3096), so they cannot differ.
 */
export const API_VERSION = '1.0.0'
