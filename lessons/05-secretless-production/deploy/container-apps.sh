#!/usr/bin/env bash
# Lesson 5 on Azure Container Apps with a user-assigned managed identity, trusted by the MCP API's app
# registration as a federated identity credential: no client secret anywhere.
#
# NOT TESTED: the workshop's sandbox has no Azure subscription. Written against the Azure CLI
# reference (az identity, az ad app federated-credential, az acr, az containerapp) and
#   https://learn.microsoft.com/azure/container-apps/managed-identity
#   https://learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity
# Read it, then run it step by step (bash, Azure CLI 2.60+, `az login` done, from the repository root).
set -euo pipefail

# ---- your values ----------------------------------------------------------------------------------
LOCATION=westeurope
GROUP=rg-mcp-workshop
IDENTITY=id-mcp-server                      # the user-assigned managed identity
REGISTRY=crmcpworkshop$RANDOM               # Azure Container Registry names are global
ENVIRONMENT=cae-mcp-workshop
APP=ca-mcp-server
TENANT_ID=$(az account show --query tenantId -o tsv)
API_CLIENT_ID="${API_CLIENT_ID:?set API_CLIENT_ID to the Application (client) ID of the MCP API registration}"
MCP_CLIENT_ID="${MCP_CLIENT_ID:?set MCP_CLIENT_ID to the Application (client) ID of the MCP client registration}"

# ---- 1. the identity --------------------------------------------------------------------------------
az group create -n "$GROUP" -l "$LOCATION"
az identity create -g "$GROUP" -n "$IDENTITY"
IDENTITY_ID=$(az identity show -g "$GROUP" -n "$IDENTITY" --query id -o tsv)
IDENTITY_CLIENT_ID=$(az identity show -g "$GROUP" -n "$IDENTITY" --query clientId -o tsv)
IDENTITY_PRINCIPAL_ID=$(az identity show -g "$GROUP" -n "$IDENTITY" --query principalId -o tsv)

# ---- 2. the API app trusts it (issuer: your tenant; subject: the identity's object ID) -------------
az ad app federated-credential create --id "$API_CLIENT_ID" --parameters "{
  \"name\": \"mcp-server-managed-identity\",
  \"issuer\": \"https://login.microsoftonline.com/$TENANT_ID/v2.0\",
  \"subject\": \"$IDENTITY_PRINCIPAL_ID\",
  \"audiences\": [\"api://AzureADTokenExchange\"]
}"
# Then remove the API's client secret(s): az ad app credential list --id "$API_CLIENT_ID" / credential delete.

# ---- 3. the image ------------------------------------------------------------------------------------
az acr create -g "$GROUP" -n "$REGISTRY" --sku Basic
az acr build -r "$REGISTRY" -t mcp-server:5 -f lessons/05-secretless-production/deploy/Dockerfile .
# The identity pulls the image: no registry password either.
az role assignment create --assignee-object-id "$IDENTITY_PRINCIPAL_ID" --assignee-principal-type ServicePrincipal \
  --role AcrPull --scope "$(az acr show -n "$REGISTRY" --query id -o tsv)"

# ---- 4. the container app ----------------------------------------------------------------------------
az containerapp env create -g "$GROUP" -n "$ENVIRONMENT" -l "$LOCATION"
az containerapp create -g "$GROUP" -n "$APP" --environment "$ENVIRONMENT" \
  --image "$REGISTRY.azurecr.io/mcp-server:5" \
  --user-assigned "$IDENTITY_ID" --registry-server "$REGISTRY.azurecr.io" --registry-identity "$IDENTITY_ID" \
  --ingress external --target-port 3001 --min-replicas 2 --max-replicas 5 \
  --env-vars ENTRA_TENANT_ID="$TENANT_ID" ENTRA_API_CLIENT_ID="$API_CLIENT_ID" ENTRA_MCP_CLIENT_ID="$MCP_CLIENT_ID" \
             ENTRA_API_CREDENTIAL=managed-identity ENTRA_MANAGED_IDENTITY_CLIENT_ID="$IDENTITY_CLIENT_ID"
FQDN=$(az containerapp show -g "$GROUP" -n "$APP" --query properties.configuration.ingress.fqdn -o tsv)
az containerapp update -g "$GROUP" -n "$APP" --set-env-vars BASE_URL="https://$FQDN"
# Probes (liveness /healthz, readiness /readyz on port 3001) are set in the app's YAML: az containerapp
# show -o yaml > app.yaml, add them under template.containers[0].probes, az containerapp update --yaml app.yaml.
# A shared OBO cache: an Azure Cache for Redis on a private endpoint; put its rediss:// URL in a
# Container Apps secret (az containerapp secret set) and reference it: --set-env-vars REDIS_URL=secretref:redis-url

echo "MCP URL: https://$FQDN/mcp — set it as the API's Application ID URI (after requestedAccessTokenVersion 2)."
