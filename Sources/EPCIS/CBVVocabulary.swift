/// The CBV 2.0 standard vocabularies an EPCIS event may use, with their three spellings: the
/// bare name (`shipping`), the web URI (`https://ref.gs1.org/cbv/BizStep-shipping`) and the
/// legacy URN (`urn:epcglobal:cbv:bizstep:shipping`).
public struct CBVVocabulary: Sendable {
    /// Name used in error messages, e.g. `bizStep`.
    public let field: String
    /// Web URI prefix, e.g. `https://ref.gs1.org/cbv/BizStep-`.
    public let webPrefix: String
    /// Legacy URN prefix, e.g. `urn:epcglobal:cbv:bizstep:`.
    public let urnPrefix: String?
    /// The standard bare names.
    public let names: Set<String>
    /// True when other bare terms of the same vocabulary are allowed too (the GS1 Web
    /// Vocabulary's measurement types grow beyond the schema's list).
    public var openTerms = false

    init(open: Bool = false, field: String, webPrefix: String, urnPrefix: String?, names: Set<String>) {
        self.field = field
        self.webPrefix = webPrefix
        self.urnPrefix = urnPrefix
        self.names = names
        self.openTerms = open
    }

    /// The full web URI of `value` when it is a standard value in any spelling; nil otherwise.
    public func standardURI(_ value: String) -> String? {
        if names.contains(value) { return webPrefix + value }
        if value.hasPrefix(webPrefix), names.contains(String(value.dropFirst(webPrefix.count))) { return value }
        if let urnPrefix, value.hasPrefix(urnPrefix), names.contains(String(value.dropFirst(urnPrefix.count))) {
            return webPrefix + value.dropFirst(urnPrefix.count)
        }
        return nil
    }

    /// Why `value` is not acceptable, or nil: a standard value, or a URI of another vocabulary.
    /// Names that look like this vocabulary's (bare words, its URN or web prefix) must be standard.
    public func problem(_ value: String) -> String? {
        if standardURI(value) != nil { return nil }
        if value.hasPrefix(webPrefix) || (urnPrefix.map { value.hasPrefix($0) } ?? false)
            || value.hasPrefix("urn:epcglobal:cbv:") || value.hasPrefix("http://ns.gs1.org/cbv/")
            || value.hasPrefix("https://ns.gs1.org/cbv/")
        {
            return "\"\(value)\" is not a CBV 2.0 \(field) value"
        }
        if EPCISValidator.isURI(value) { return nil }
        if openTerms, let f = value.first, f.isASCII, f.isLetter,
            value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        {
            return nil
        }
        return "\"\(value)\" is not a CBV 2.0 \(field) (standard names: see CBV 2.0) and not a URI of another vocabulary"
    }

    /// The canonical spelling for hashing and matching: standard values as web URIs, others unchanged.
    public func canonical(_ value: String) -> String {
        if let s = standardURI(value) { return s }
        if openTerms, !value.contains(":") { return webPrefix + value }
        return value
    }

    /// Business steps (CBV 2.0 §7.1).
    public static let bizStep = CBVVocabulary(
        field: "bizStep", webPrefix: "https://ref.gs1.org/cbv/BizStep-", urnPrefix: "urn:epcglobal:cbv:bizstep:",
        names: [
            "accepting", "arriving", "assembling", "collecting", "commissioning", "consigning", "creating_class_instance",
            "cycle_counting", "decommissioning", "departing", "destroying", "disassembling", "dispensing", "encoding",
            "entering_exiting", "holding", "inspecting", "installing", "killing", "loading", "other", "packing", "picking",
            "receiving", "removing", "repackaging", "repairing", "replacing", "reserving", "retail_selling", "shipping",
            "staging_outbound", "stock_taking", "stocking", "storing", "transporting", "unloading", "unpacking",
            "void_shipping", "sensor_reporting", "sampling",
        ])

    /// Dispositions (CBV 2.0 §7.2).
    public static let disposition = CBVVocabulary(
        field: "disposition", webPrefix: "https://ref.gs1.org/cbv/Disp-", urnPrefix: "urn:epcglobal:cbv:disp:",
        names: [
            "active", "container_closed", "damaged", "destroyed", "dispensed", "disposed", "encoded", "expired",
            "in_progress", "in_transit", "inactive", "no_pedigree_match", "non_sellable_other", "partially_dispensed",
            "recalled", "reserved", "retail_sold", "returned", "sellable_accessible", "sellable_not_accessible", "stolen",
            "unknown", "available", "completeness_verified", "completeness_inferred", "conformant", "container_open",
            "mismatch_instance", "mismatch_class", "mismatch_quantity", "needs_replacement", "non_conformant", "unavailable",
        ])

    /// Business transaction types (CBV 2.0 §7.3).
    public static let bizTransactionType = CBVVocabulary(
        field: "bizTransaction type", webPrefix: "https://ref.gs1.org/cbv/BTT-", urnPrefix: "urn:epcglobal:cbv:btt:",
        names: [
            "bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder", "recadv", "rma", "testprd", "testres", "upevt",
        ])

    /// Source/destination types (CBV 2.0 §7.4).
    public static let sourceDestType = CBVVocabulary(
        field: "source/destination type", webPrefix: "https://ref.gs1.org/cbv/SDT-", urnPrefix: "urn:epcglobal:cbv:sdt:",
        names: ["owning_party", "possessing_party", "location"])

    /// Error reasons (CBV 2.0 §7.5).
    public static let errorReason = CBVVocabulary(
        field: "errorDeclaration reason", webPrefix: "https://ref.gs1.org/cbv/ER-", urnPrefix: "urn:epcglobal:cbv:er:",
        names: ["did_not_occur", "incorrect_data"])

    /// Sensor value components (CBV 2.0 §7.6).
    public static let component = CBVVocabulary(
        field: "sensor component", webPrefix: "https://ref.gs1.org/cbv/Comp-", urnPrefix: nil,
        names: [
            "x", "y", "z", "axial_distance", "azimuth", "height", "spherical_radius", "polar_angle", "elevation_angle",
            "easting", "northing", "latitude", "longitude", "altitude",
        ])

    /// Sensor measurement types (GS1 Web Vocabulary `gs1:MeasurementType`).
    public static let measurementType = CBVVocabulary(
        open: true,
        field: "sensor measurement type", webPrefix: "https://gs1.org/voc/", urnPrefix: nil,
        names: [
            "AbsoluteHumidity", "AbsorbedDose", "AbsorbedDoseRate", "Acceleration", "Radioactivity", "Altitude",
            "AmountOfSubstance", "AmountOfSubstancePerUnitVolume", "Angle", "AngularAcceleration", "AngularMomentum",
            "AngularVelocity", "Area", "Capacitance", "Conductance", "Conductivity", "Count", "Density", "Dimensionless",
            "DoseEquivalent", "DoseEquivalentRate", "DynamicViscosity", "ElectricCharge", "ElectricCurrent",
            "ElectricCurrentDensity", "ElectricFieldStrength", "Energy", "Exposure", "Force", "Frequency", "Illuminance",
            "Inductance", "Irradiance", "KinematicViscosity", "Length", "LinearMomentum", "Luminance", "LuminousFlux",
            "LuminousIntensity", "MagneticFlux", "MagneticFluxDensity", "MagneticVectorPotential", "Mass",
            "MassConcentration", "MassFlowRate", "MassPerAreaTime", "MemoryCapacity", "MolalityOfSolute", "MolarEnergy",
            "MolarMass", "MolarVolume", "Power", "Pressure", "RadiantFlux", "RadiantIntensity", "RelativeHumidity",
            "Resistance", "Resistivity", "SolidAngle", "SpecificVolume", "Speed", "SurfaceDensity", "SurfaceTension",
            "Temperature", "Time", "Torque", "Voltage", "Volume", "VolumeFlowRate", "VolumeFraction", "VolumetricFlux",
            "Wavenumber",
        ])

    /// Sensor alert types (GS1 Web Vocabulary `gs1:SensorAlertType`).
    public static let sensorAlertType = CBVVocabulary(
        field: "sensor exception", webPrefix: "https://gs1.org/voc/", urnPrefix: nil,
        names: ["ALARM_CONDITION", "ERROR_CONDITION"])
}
