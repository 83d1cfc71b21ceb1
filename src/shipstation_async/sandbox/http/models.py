"""The typed models the write endpoints bind their bodies to (see :mod:`.binding`).

Property types follow the reference's models (§3) and the documented request bodies (§1):
ids and counts are Int32, money, weights and sizes decimal, flags boolean, dates DateTime,
everything else string. A property typed ``None`` is kept as sent (its type is not
documented). The .NET type names are the sandbox's own: ShipStation's are unpublished.
"""

from __future__ import annotations

from .binding import BOOL, DATETIME, DECIMAL, GUID, INT, STRING, FieldType, ListOf, Model


def _strings(*names: str) -> dict[str, FieldType | None]:
    return dict.fromkeys(names, STRING)


ADDRESS = Model(
    "Address",
    {
        **_strings(
            "name", "company", "street1", "street2", "street3", "city", "state", "postalCode"
        ),
        **_strings("country", "phone", "addressVerified"),
        "residential": BOOL,
    },
)
WEIGHT = Model("Weight", {"value": DECIMAL, "units": STRING, "WeightUnits": INT})
DIMENSIONS = Model(
    "Dimensions", {"length": DECIMAL, "width": DECIMAL, "height": DECIMAL, "units": STRING}
)
INSURANCE_OPTIONS = Model(
    "InsuranceOptions", {"provider": STRING, "insureShipment": BOOL, "insuredValue": DECIMAL}
)
CUSTOMS_ITEM = Model(
    "CustomsItem",
    {
        "customsItemId": INT,
        "description": STRING,
        "quantity": INT,
        "value": DECIMAL,
        "harmonizedTariffCode": STRING,
        "countryOfOrigin": STRING,
    },
)
INTERNATIONAL_OPTIONS = Model(
    "InternationalOptions",
    {"contents": STRING, "customsItems": ListOf(CUSTOMS_ITEM), "nonDelivery": STRING},
)
ADVANCED_OPTIONS = Model(
    "AdvancedOptions",
    {
        "warehouseId": INT,
        "nonMachinable": BOOL,
        "saturdayDelivery": BOOL,
        "containsAlcohol": BOOL,
        "mergedOrSplit": BOOL,
        "mergedIds": ListOf(INT),
        "parentId": INT,
        "storeId": INT,
        **_strings("customField1", "customField2", "customField3", "source", "billToParty"),
        **_strings("billToAccount", "billToPostalCode", "billToCountryCode"),
        "billToMyOtherAccount": None,
    },
)
ITEM_OPTION = Model("ItemOption", {"name": STRING, "value": STRING})
ORDER_ITEM = Model(
    "OrderItem",
    {
        "orderItemId": INT,
        **_strings("lineItemKey", "sku", "name", "imageUrl", "warehouseLocation"),
        "weight": WEIGHT,
        "quantity": INT,
        "unitPrice": DECIMAL,
        "taxAmount": DECIMAL,
        "shippingAmount": DECIMAL,
        "options": ListOf(ITEM_OPTION),
        "productId": INT,
        "fulfillmentSku": STRING,
        "adjustment": BOOL,
        "upc": STRING,
        "createDate": DATETIME,
        "modifyDate": DATETIME,
    },
)
_ORDER_DATES = ("orderDate", "createDate", "modifyDate", "paymentDate", "shipByDate")
API_ORDER = Model(
    "ApiOrder",
    {
        "orderId": INT,
        "orderNumber": STRING,
        "orderKey": STRING,
        **dict.fromkeys(_ORDER_DATES, DATETIME),
        "orderStatus": STRING,
        "customerId": INT,
        "customerUsername": STRING,
        "customerEmail": STRING,
        "billTo": ADDRESS,
        "shipTo": ADDRESS,
        "items": ListOf(ORDER_ITEM),
        **dict.fromkeys(("orderTotal", "amountPaid", "taxAmount", "shippingAmount"), DECIMAL),
        **_strings("customerNotes", "internalNotes", "giftMessage", "paymentMethod"),
        **_strings("requestedShippingService", "carrierCode", "serviceCode", "packageCode"),
        "gift": BOOL,
        "confirmation": STRING,
        "shipDate": DATETIME,
        "holdUntilDate": DATETIME,
        "weight": WEIGHT,
        "dimensions": DIMENSIONS,
        "insuranceOptions": INSURANCE_OPTIONS,
        "internationalOptions": INTERNATIONAL_OPTIONS,
        "advancedOptions": ADVANCED_OPTIONS,
        "tagIds": ListOf(INT),
        "userId": GUID,
        "externallyFulfilled": BOOL,
        "externallyFulfilledBy": STRING,
        "externallyFulfilledById": None,
        "externallyFulfilledByName": STRING,
    },
)
API_ORDERS = ListOf(API_ORDER)

_LABEL_FIELDS: dict[str, FieldType | None] = {
    **_strings("carrierCode", "serviceCode", "packageCode", "confirmation"),
    "shipDate": DATETIME,
    "weight": WEIGHT,
    "dimensions": DIMENSIONS,
    "insuranceOptions": INSURANCE_OPTIONS,
    "internationalOptions": INTERNATIONAL_OPTIONS,
    "advancedOptions": ADVANCED_OPTIONS,
    "testLabel": BOOL,
}
ORDER_LABEL = Model("CreateLabelForOrderRequest", {"orderId": INT, **_LABEL_FIELDS})
SHIPMENT_LABEL = Model(
    "CreateLabelRequest",
    {**_LABEL_FIELDS, "shipFrom": ADDRESS, "shipTo": ADDRESS, "isReturnLabel": BOOL},
)
RATE_OPTIONS = Model(
    "RateOptions",
    {
        **_strings("carrierCode", "serviceCode", "packageCode", "fromPostalCode", "fromCity"),
        **_strings("fromState", "toState", "toCountry", "toPostalCode", "toCity"),
        "fromWarehouseId": INT,
        "weight": WEIGHT,
        "dimensions": DIMENSIONS,
        "confirmation": STRING,
        "residential": BOOL,
    },
)
VOID_LABEL = Model("VoidLabelRequest", {"shipmentId": INT})
ORDER_REF = Model("OrderRequest", {"orderId": INT})
ORDER_TAG = Model("OrderTagRequest", {"orderId": INT, "tagId": INT})
HOLD_UNTIL = Model("HoldUntilRequest", {"orderId": INT, "holdUntilDate": DATETIME})
ASSIGN_USER = Model("AssignUserRequest", {"orderIds": ListOf(INT), "userId": GUID})
MARK_AS_SHIPPED = Model(
    "MarkAsShippedRequest",
    {
        "orderId": INT,
        "carrierCode": STRING,
        "shipDate": DATETIME,
        "trackingNumber": STRING,
        "notifyCustomer": BOOL,
        "notifySalesChannel": BOOL,
    },
)
ADD_FUNDS = Model("AddFundsRequest", {"carrierCode": STRING, "amount": DECIMAL})
REGISTER_ACCOUNT = Model(
    "RegisterAccountRequest",
    _strings(
        "firstName",
        "lastName",
        "email",
        "password",
        "companyName",
        "addr1",
        "addr2",
        "city",
        "state",
        "zip",
        "countryCode",
        "phone",
    ),
)
PRODUCT = Model(
    "Product",
    {
        "productId": INT,
        "sku": STRING,
        "name": STRING,
        **dict.fromkeys(("price", "defaultCost", "length", "width", "height"), DECIMAL),
        "weightOz": DECIMAL,
        **_strings("internalNotes", "fulfillmentSku", "warehouseLocation", "upc"),
        "createDate": DATETIME,
        "modifyDate": DATETIME,
        "active": BOOL,
        "productCategory": Model("ProductCategory", {"categoryId": INT, "name": STRING}),
        "productType": Model("ProductType", {"productTypeId": INT, "name": STRING}),
        **_strings("defaultCarrierCode", "defaultServiceCode", "defaultPackageCode"),
        **_strings("defaultIntlCarrierCode", "defaultIntlServiceCode", "defaultIntlPackageCode"),
        **_strings("defaultConfirmation", "defaultIntlConfirmation", "customsDescription"),
        "customsValue": DECIMAL,
        **_strings("customsTariffNo", "customsCountryCode", "thumbnailUrl"),
        "noCustoms": BOOL,
        "tags": ListOf(Model("ProductTag", {"tagId": INT, "name": STRING})),
        "aliases": None,
    },
)
WAREHOUSE = Model(
    "Warehouse",
    {
        "warehouseId": INT,
        "warehouseName": STRING,
        "originAddress": ADDRESS,
        "returnAddress": ADDRESS,
        "createDate": DATETIME,
        "isDefault": BOOL,
    },
)
STORE = Model(
    "Store",
    {
        "storeId": INT,
        "storeName": STRING,
        "marketplaceId": INT,
        **_strings("marketplaceName", "accountName", "email", "integrationUrl", "companyName"),
        **_strings("phone", "publicEmail", "website"),
        "active": BOOL,
        "autoRefresh": BOOL,
        **dict.fromkeys(("refreshDate", "lastRefreshAttempt"), DATETIME),
        **dict.fromkeys(("createDate", "modifyDate"), DATETIME),
        "statusMappings": ListOf(Model("StatusMapping", _strings("orderStatus", "statusKey"))),
    },
)
STORE_REF = Model("StoreRequest", {"storeId": INT})
REFRESH_STORE = Model("RefreshStoreRequest", {"storeId": INT, "refreshDate": DATETIME})
SUBSCRIBE = Model(
    "SubscribeRequest",
    {"target_url": STRING, "event": STRING, "store_id": INT, "friendly_name": STRING},
)
