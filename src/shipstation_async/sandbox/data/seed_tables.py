"""Word lists and catalogues the sandbox's generated world draws from."""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "William",
    "Mia", "Benjamin", "Charlotte", "Lucas", "Amelia", "Henry", "Harper", "Theodore", "Evelyn",
    "Jack", "Abigail", "Levi", "Emily", "Alexander", "Ella", "Jackson", "Elizabeth", "Mateo",
    "Camila", "Daniel", "Luna", "Michael", "Sofia", "Mason", "Avery", "Sebastian", "Mila",
    "Ethan", "Aria", "Logan", "Scarlett", "Owen", "Penelope", "Samuel", "Layla", "Jacob",
    "Chloe", "Asher", "Victoria", "Aiden", "Madison", "John", "Eleanor", "Joseph", "Grace",
    "Wyatt", "Nora", "David", "Riley", "Leo", "Zoey", "Luke", "Hannah", "Julian", "Hazel",
    "Hudson", "Lily", "Grayson", "Ellie", "Matthew", "Violet", "Ezra", "Lillian", "Gabriel",
    "Zoe", "Carter", "Stella", "Isaac", "Aurora", "Jayden", "Natalie", "Luca", "Emilia",
    "Anthony", "Everly", "Dylan", "Leah", "Lincoln", "Aubrey", "Thomas", "Willow", "Maverick",
    "Addison", "Elias", "Lucy", "Josiah", "Audrey", "Charles", "Bella", "Caleb", "Nova",
    "Christopher", "Brooklyn", "Ezekiel", "Paisley", "Miles", "Savannah", "Jaxon", "Claire",
    "Isaiah", "Skylar", "Andrew", "Isla", "Joshua", "Genesis", "Nathan", "Naomi", "Nolan",
    "Elena", "Adrian", "Caroline", "Cameron", "Eliana", "Santiago", "Anna", "Eli", "Maya",
    "Aaron", "Valentina", "Ryan", "Ruby", "Angel", "Kennedy", "Cooper", "Ivy", "Waylon",
    "Ariana", "Easton", "Aaliyah", "Kai", "Cora", "Christian", "Madelyn", "Landon", "Alice",
    "Colton", "Kinsley", "Roman", "Hailey", "Axel", "Gabriella", "Brooks", "Allison",
    "Jonathan", "Gianna", "Robert", "Serenity", "Jameson", "Samantha", "Ian", "Sarah",
    "Everett", "Autumn", "Greyson", "Quinn", "Wesley", "Eva", "Jeremiah", "Piper", "Hunter",
    "Sophie", "Leonardo", "Sadie", "Jordan", "Delilah", "Jose", "Josephine", "Bennett", "Nevaeh",
    "Silas", "Adeline", "Nicholas", "Arya", "Parker", "Emery", "Beau", "Lydia", "Weston",
    "Clara", "Austin", "Vivian", "Connor", "Madeline", "Carson", "Peyton", "Dominic", "Julia",
    "Xavier", "Rylee", "Jaxson", "Brielle", "Jace", "Reagan", "Emmett", "Natalia", "Adam",
    "Jade", "Declan", "Athena", "Rowan", "Maria", "Micah", "Leilani", "Kayden", "Everleigh",
    "Gael", "Liliana", "River", "Melanie", "Ryder", "Mackenzie", "Kingston", "Hadley",
    "Damian", "Raelynn", "Sawyer", "Kaylee", "Luka", "Rose", "Evan", "Arianna", "Vincent",
    "Isabelle", "Legend", "Melody", "Myles", "Eliza", "Harrison", "Lyla", "August", "Katherine",
    "Bryson", "Aubree", "Amir", "Adalynn", "Giovanni", "Kylie", "Chase", "Faith", "Diego",
    "Mary", "Milo", "Margaret", "Jasper", "Ximena", "Walker", "Iris", "Jason", "Alexandra",
    "Brayden", "Jasmine", "Cole", "Charlie", "Nathaniel", "Amaya", "George", "Taylor",
    "Lorenzo", "Isabel", "Zion", "Ashley", "Luis", "Khloe", "Archer", "Ryleigh", "Enzo",
    "Alexa", "Jonah", "Amara", "Thiago", "Valeria", "Theo", "Andrea", "Ayden", "Parker",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans",
    "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris",
    "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson",
    "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson",
    "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
    "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster",
    "Jimenez", "Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman",
    "Butler", "Henderson", "Barnes", "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero",
    "Jordan", "Patterson", "Alexander", "Hamilton", "Graham", "Reynolds", "Griffin", "Wallace",
    "Moreno", "West", "Cole", "Hayes", "Bryant", "Herrera", "Gibson", "Ellis", "Tran",
    "Medina", "Aguilar", "Stevens", "Murray", "Ford", "Castro", "Marshall", "Owens",
    "Harrison", "Fernandez", "McDonald", "Woods", "Washington", "Kennedy", "Wells", "Vargas",
    "Henry", "Chen", "Freeman", "Webb", "Tucker", "Guzman", "Burns", "Crawford", "Olson",
    "Simpson", "Porter", "Hunter", "Gordon", "Mendez", "Silva", "Shaw", "Snyder", "Mason",
    "Dixon", "Munoz", "Hunt", "Hicks", "Holmes", "Palmer", "Wagner", "Black", "Robertson",
    "Boyd", "Rose", "Stone", "Salazar", "Fox", "Warren", "Mills", "Meyer", "Rice", "Schmidt",
    "Garza", "Daniels", "Ferguson", "Nichols", "Stephens", "Soto", "Weaver", "Ryan", "Gardner",
    "Payne", "Grant", "Dunn", "Kelley", "Spencer", "Hawkins", "Arnold", "Pierce", "Vazquez",
    "Hansen", "Peters", "Santos", "Hart", "Bradley", "Knight", "Elliott", "Cunningham",
    "Duncan", "Armstrong", "Hudson", "Carroll", "Lane", "Riley", "Andrews", "Alvarado",
    "Ray", "Delgado", "Berry", "Perkins", "Hoffman", "Johnston", "Matthews", "Pena", "Richards",
    "Contreras", "Willis", "Carpenter", "Lawrence", "Sandoval", "O'Brien", "Nakamura",
)  # fmt: skip

COMPANIES: tuple[str, ...] = (
    "Acme Corp", "Globex LLC", "Initech", "Umbrella Supply Co", "Stark Industries",
    "Wayne Enterprises", "Hooli", "Vandelay Industries", "Pied Piper", "Soylent Foods",
    "Blue Sky Outfitters", "Northwind Traders", "Contoso Ltd", "Fabrikam Inc", "Tailspin Toys",
)  # fmt: skip

STREET_NAMES: tuple[str, ...] = (
    "Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Washington Ave",
    "Lake Shore Dr", "Hillcrest Rd", "Sunset Blvd", "Park Ave", "2nd St", "3rd Ave",
    "Highland Ave", "Meadow Ln", "River Rd", "Church St", "Willow Way", "Spring St",
    "Jefferson St", "Lincoln Ave", "Franklin Blvd", "Madison Ave", "Chestnut St", "Walnut St",
    "Broadway", "Market St", "Mill Rd", "Valley View Dr", "Forest Ave", "Harbor Dr", "Mission St",
)  # fmt: skip

# (city, state, postal code prefix, phone area code)
US_CITIES: tuple[tuple[str, str, str, str], ...] = (
    ("Austin", "TX", "787", "512"), ("Seattle", "WA", "981", "206"),
    ("Portland", "OR", "972", "503"), ("Denver", "CO", "802", "303"),
    ("Chicago", "IL", "606", "312"), ("Boston", "MA", "021", "617"),
    ("Atlanta", "GA", "303", "404"), ("Phoenix", "AZ", "850", "602"),
    ("San Diego", "CA", "921", "619"), ("Los Angeles", "CA", "900", "213"),
    ("San Francisco", "CA", "941", "415"), ("Miami", "FL", "331", "305"),
    ("Nashville", "TN", "372", "615"), ("Minneapolis", "MN", "554", "612"),
    ("Columbus", "OH", "432", "614"), ("Raleigh", "NC", "276", "919"),
    ("Salt Lake City", "UT", "841", "801"), ("Kansas City", "MO", "641", "816"),
    ("Brooklyn", "NY", "112", "718"), ("Philadelphia", "PA", "191", "215"),
    ("Madison", "WI", "537", "608"), ("Boise", "ID", "837", "208"),
    ("Albuquerque", "NM", "871", "505"), ("Richmond", "VA", "232", "804"),
    ("Omaha", "NE", "681", "402"), ("Anchorage", "AK", "995", "907"),
    ("Honolulu", "HI", "968", "808"), ("Burlington", "VT", "054", "802"),
)  # fmt: skip

# (city, state/province, postal code, country)
INTL_CITIES: tuple[tuple[str, str, str, str], ...] = (
    ("Toronto", "ON", "M5V 2T6", "CA"), ("Vancouver", "BC", "V6B 1A1", "CA"),
    ("London", "", "NW1 6XE", "GB"), ("Manchester", "", "M1 1AE", "GB"),
    ("Sydney", "NSW", "2000", "AU"), ("Melbourne", "VIC", "3000", "AU"),
    ("Berlin", "", "10115", "DE"), ("Paris", "", "75001", "FR"),
    ("Auckland", "", "1010", "NZ"), ("Dublin", "", "D02 XY45", "IE"),
)  # fmt: skip

# (sku, name, weight in ounces, unit price in cents, options, warehouse location, productId)
PRODUCTS: tuple[tuple[str, str, int, int, tuple[tuple[str, str], ...], str | None, int], ...] = (
    ("TS-BLK-M", "Classic Tee - Black", 6, 1999, (("Size", "Medium"), ("Color", "Black")),
     "Aisle 1, Bin 3", 7239901),
    ("TS-WHT-L", "Classic Tee - White", 6, 1999, (("Size", "Large"), ("Color", "White")),
     "Aisle 1, Bin 4", 7239902),
    ("HD-GRY-XL", "Pullover Hoodie - Heather Grey", 18, 4999, (("Size", "XL"),),
     "Aisle 2, Bin 1", 7239903),
    ("MUG-CER-11", "Ceramic Mug 11oz", 14, 1499, (), "Aisle 3, Bin 7", 7239904),
    ("MUG-TRV-16", "Insulated Travel Mug 16oz", 12, 2499, (("Color", "Navy"),),
     "Aisle 3, Bin 8", 7239905),
    ("BTL-STL-24", "Stainless Water Bottle 24oz", 16, 2999, (("Color", "Forest Green"),),
     "Aisle 3, Bin 9", 7239906),
    ("CAP-SNP-RED", "Snapback Cap - Red", 5, 2299, (), "Aisle 4, Bin 2", 7239907),
    ("BAG-TOT-CNV", "Canvas Tote Bag", 9, 1899, (), "Aisle 4, Bin 5", 7239908),
    ("NB-DOT-A5", "Dot Grid Notebook A5", 10, 1299, (("Cover", "Kraft"),), "Aisle 5, Bin 1",
     7239909),
    ("PEN-GEL-10", "Gel Pen 10-Pack", 4, 899, (), "Aisle 5, Bin 2", 7239910),
    ("CDL-SOY-LAV", "Soy Candle - Lavender", 11, 2199, (("Scent", "Lavender"),),
     "Aisle 6, Bin 4", 7239911),
    ("CDL-SOY-CED", "Soy Candle - Cedarwood", 11, 2199, (("Scent", "Cedarwood"),),
     "Aisle 6, Bin 5", 7239912),
    ("SOAP-OAT-4", "Oatmeal Bar Soap 4oz", 5, 799, (), "Aisle 6, Bin 9", 7239913),
    ("PHN-CSE-14", "Phone Case - Clear", 2, 1599, (("Model", "Model 14"),), "Aisle 7, Bin 1",
     7239914),
    ("CBL-USBC-2M", "USB-C Cable 2m", 3, 1199, (), "Aisle 7, Bin 3", 7239915),
    ("CHG-WL-15W", "Wireless Charger 15W", 7, 3499, (), "Aisle 7, Bin 6", 7239916),
    ("EAR-BT-PRO", "Bluetooth Earbuds Pro", 4, 7999, (("Color", "White"),), None, 7239917),
    ("YOGA-MAT-6", "Yoga Mat 6mm", 40, 3999, (("Color", "Plum"),), "Aisle 8, Bin 2", 7239918),
    ("DMB-HEX-10", "Hex Dumbbell 10lb", 160, 2999, (), "Aisle 8, Bin 7", 7239919),
    ("SCK-WOOL-M", "Merino Wool Socks", 3, 1799, (("Size", "Medium"),), "Aisle 1, Bin 9",
     7239920),
    ("BLK-THR-50", "Knit Throw Blanket 50x60", 48, 5999, (("Color", "Oatmeal"),),
     "Aisle 9, Bin 1", 7239921),
    ("PLW-LIN-18", "Linen Pillow Cover 18in", 8, 2499, (), "Aisle 9, Bin 3", 7239922),
    ("TEA-ERL-50", "Earl Grey Tea 50 Bags", 6, 999, (), "Aisle 10, Bin 2", 7239923),
    ("COF-WB-12", "Whole Bean Coffee 12oz", 13, 1699, (("Grind", "Whole Bean"),),
     "Aisle 10, Bin 4", 7239924),
    ("PZL-1000-MT", "1000 Piece Puzzle - Mountains", 28, 2199, (), "Aisle 11, Bin 1",
     7239925),
    ("KIT-DSG-ELE", "Elementary Disguise Kit", 12, 4999, (), "Aisle 1, Bin 7", 7239926),
    ("CN-OAK-36", "Fine White Oak Cane", 80, 22500, (), "Aisle 7, Bin 34", 7239927),
    ("LMP-DSK-LED", "LED Desk Lamp", 36, 4599, (("Finish", "Matte Black"),), None, 7239928),
    ("PLN-CER-6", "Ceramic Planter 6in", 30, 2799, (("Color", "Terracotta"),),
     "Aisle 12, Bin 3", 7239929),
    ("GFT-CRD-25", "Gift Card $25", 1, 2500, (), None, 7239930),
)  # fmt: skip

# (storeName, marketplaceName, orderNumber prefix, advancedOptions.source)
STORE_KINDS: tuple[tuple[str, str, str, str | None], ...] = (
    ("Manual Orders", "ShipStation", "", None),
    ("Webstore", "Shopify", "SHOP-", "Webstore"),
    ("Amazon US", "Amazon", "AMZ-", "amazon"),
    ("Etsy Shop", "Etsy", "ETSY-", "etsy"),
)

# (carrierCode, serviceCode, requestedShippingService, packageCode)
SERVICES: tuple[tuple[str, str, str, str], ...] = (
    ("stamps_com", "usps_priority_mail", "Priority Mail", "package"),
    ("stamps_com", "usps_first_class_mail", "First Class", "package"),
    ("stamps_com", "usps_ground_advantage", "Ground Advantage", "package"),
    ("ups", "ups_ground", "UPS Ground", "package"),
    ("ups", "ups_2nd_day_air", "UPS 2nd Day Air", "package"),
    ("fedex", "fedex_home_delivery", "FedEx Home Delivery", "package"),
    ("fedex", "fedex_2day", "FedEx 2Day", "fedex_pak"),
)

INTL_SERVICES: tuple[tuple[str, str, str, str], ...] = (
    ("stamps_com", "usps_priority_mail_international", "Priority Mail International", "package"),
    ("stamps_com", "usps_first_class_package_international", "First Class International",
     "package"),
    ("ups", "ups_worldwide_expedited", "UPS Worldwide Expedited", "package"),
)  # fmt: skip

PAYMENT_METHODS: tuple[str, ...] = ("Credit Card", "PayPal", "Shop Pay", "Amazon Pay", "Gift Card")

CUSTOMER_NOTES: tuple[str, ...] = (
    "Please ship as soon as possible!",
    "Leave the package at the back door.",
    "Gift wrap if possible.",
    "Please do not bend.",
    "Call before delivery.",
)

INTERNAL_NOTES: tuple[str, ...] = (
    "Customer called and would like to upgrade shipping",
    "Repeat customer: include a thank-you card.",
    "Check address with customer before shipping.",
    "Fragile: double box.",
)

GIFT_MESSAGES: tuple[str, ...] = (
    "Thank you!",
    "Happy birthday!",
    "Congratulations on the new place!",
    "Merry Christmas from all of us.",
    "Thinking of you.",
)

FULFILLMENT_PROVIDERS: tuple[tuple[int, str], ...] = (
    (12345, "Example Fulfillment Provider Name"),
    (23456, "Amazon FBA"),
    (34567, "Shipwire"),
)

ADDRESS_VERIFIED: tuple[str, ...] = (
    "Address validated successfully",
    "Address validated successfully",
    "Address validated successfully",
    "Address not yet validated",
    "Address validation warning",
    "Address validation failed",
)
