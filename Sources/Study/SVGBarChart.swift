import Foundation

/// A bar chart as a standalone SVG 1.1 document: one bar per value, optionally grouped
/// (one bar per series within each group, e.g. 1 vs 2 threads), a zero-based axis with
/// round ticks, a value on every bar and a legend for grouped series. It needs no
/// scripts, fonts or other files, so the study's charts open anywhere the report does.
public struct SVGBarChart: Sendable, Equatable {
    /// One label on the x axis and one value per series; nil leaves a gap (not measured).
    public struct Group: Sendable, Equatable {
        public var label: String
        public var values: [Double?]

        public init(label: String, values: [Double?]) {
            self.label = label
            self.values = values
        }
    }

    public var title: String
    /// Unit of the values, shown along the y axis.
    public var unit: String
    /// Series names for the legend; fewer than two draws no legend.
    public var series: [String]
    public var groups: [Group]
    /// Text shown across the plot, e.g. why there are no bars.
    public var note: String?

    /// One series: a bar per label.
    public init(title: String, unit: String, bars: [(label: String, value: Double)], note: String? = nil) {
        self.init(title: title, unit: unit, series: [],
                  groups: bars.map { Group(label: $0.label, values: [$0.value]) }, note: note)
    }

    public init(title: String, unit: String, series: [String], groups: [Group], note: String? = nil) {
        self.title = title
        self.unit = unit
        self.series = series
        self.groups = groups
        self.note = note
    }

    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1"]

    private struct Layout {
        let width: Double, height: Double
        let left: Double, top: Double, plotWidth: Double, plotHeight: Double
        let groupWidth: Double, barWidth: Double
        var bottom: Double { top + plotHeight }
    }

    private var seriesCount: Int { max(1, series.count, groups.map(\.values.count).max() ?? 1) }

    private func layout() -> Layout {
        let perGroup = max(80, Double(seriesCount) * 30 + 30)
        let left = 72.0, right = 20.0
        // Bold 16 px sans-serif averages under 10 px a character: room for the whole title.
        let titleWidth = Double(title.count) * 10 + 40
        let width = max(480, titleWidth, left + right + Double(max(groups.count, 1)) * perGroup)
        let top = series.count > 1 ? 72.0 : 52.0
        let height = 360.0
        let plotWidth = width - left - right
        let groupWidth = plotWidth / Double(max(groups.count, 1))
        let barWidth = min(44, (groupWidth - 24) / Double(seriesCount))
        return Layout(width: width, height: height, left: left, top: top, plotWidth: plotWidth,
                      plotHeight: height - top - 64, groupWidth: groupWidth, barWidth: barWidth)
    }

    public func render() -> String {
        let l = layout()
        let values = groups.flatMap(\.values).compactMap { $0 }
        let largest = values.filter(\.isFinite).max() ?? 0
        let axis = Self.axis(for: largest)
        // Without bars a scale would suggest a reading that does not exist: keep the baseline only.
        let ticks = values.isEmpty ? [0] : axis.ticks
        var svg = """
        <?xml version="1.0" encoding="UTF-8" standalone="no"?>
        <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(n(l.width))" height="\(n(l.height))" \
        viewBox="0 0 \(n(l.width)) \(n(l.height))" font-family="sans-serif" font-size="12">

        """
        svg += "<title>\(Self.escape(title))</title>\n"
        svg += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"\(n(l.width))\" height=\"\(n(l.height))\" fill=\"#ffffff\"/>\n"
        svg += "<text x=\"\(n(l.width / 2))\" y=\"28\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">"
            + "\(Self.escape(title))</text>\n"

        for (i, tick) in ticks.enumerated() {
            let y = l.bottom - tick / axis.top * l.plotHeight
            let stroke = i == 0 ? "#333333" : "#dddddd"
            svg += "<line x1=\"\(n(l.left))\" y1=\"\(n(y))\" x2=\"\(n(l.left + l.plotWidth))\" y2=\"\(n(y))\" stroke=\"\(stroke)\"/>\n"
            if values.isEmpty { continue }
            svg += "<text x=\"\(n(l.left - 6))\" y=\"\(n(y + 4))\" text-anchor=\"end\">"
                + "\(Figures.fixed(tick, axis.decimals))</text>\n"
        }
        svg += "<line x1=\"\(n(l.left))\" y1=\"\(n(l.top))\" x2=\"\(n(l.left))\" y2=\"\(n(l.bottom))\" stroke=\"#333333\"/>\n"
        let unitY = l.top + l.plotHeight / 2
        svg += "<text x=\"18\" y=\"\(n(unitY))\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(n(unitY)))\">"
            + "\(Self.escape(unit))</text>\n"

        for (g, group) in groups.enumerated() {
            let center = l.left + (Double(g) + 0.5) * l.groupWidth
            let start = center - Double(seriesCount) * l.barWidth / 2
            for (s, value) in group.values.enumerated() {
                guard let value else { continue }
                let shown = value.isFinite ? max(0, value) : 0
                let height = min(shown / axis.top, 1) * l.plotHeight
                let x = start + Double(s) * l.barWidth
                let name = series.indices.contains(s) ? "\(series[s]), " : ""
                svg += "<rect class=\"bar\" x=\"\(n(x + 2))\" y=\"\(n(l.bottom - height))\" width=\"\(n(l.barWidth - 4))\" "
                    + "height=\"\(n(height))\" fill=\"\(Self.palette[s % Self.palette.count])\">"
                    + "<title>\(Self.escape("\(group.label): \(name)\(Self.valueText(value)) \(unit)"))</title></rect>\n"
                svg += "<text x=\"\(n(x + l.barWidth / 2))\" y=\"\(n(l.bottom - height - 4))\" text-anchor=\"middle\" "
                    + "font-size=\"11\">\(Self.escape(Self.valueText(value)))</text>\n"
            }
            svg += "<text x=\"\(n(center))\" y=\"\(n(l.bottom + 20))\" text-anchor=\"middle\">\(Self.escape(group.label))</text>\n"
        }

        if series.count > 1 {
            var x = l.left
            for (s, name) in series.enumerated() {
                svg += "<circle cx=\"\(n(x + 6))\" cy=\"50\" r=\"6\" fill=\"\(Self.palette[s % Self.palette.count])\"/>\n"
                svg += "<text x=\"\(n(x + 16))\" y=\"54\">\(Self.escape(name))</text>\n"
                x += 24 + Double(name.count) * 7
            }
        }
        if let note {
            svg += "<text x=\"\(n(l.left + l.plotWidth / 2))\" y=\"\(n(l.top + l.plotHeight / 2))\" text-anchor=\"middle\" "
                + "font-size=\"14\" fill=\"#666666\">\(Self.escape(note))</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    private func n(_ value: Double) -> String { String(format: "%.2f", value) }

    /// A zero-based axis whose top is a round multiple of a 1-2-2.5-5 step, about five ticks.
    static func axis(for largest: Double) -> (top: Double, ticks: [Double], decimals: Int) {
        guard largest > 0, largest.isFinite else { return (1, [0, 0.2, 0.4, 0.6, 0.8, 1], 1) }
        let raw = largest / 5
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let fraction = raw / magnitude
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10
        let step = nice * magnitude
        let count = max(1, Int((largest / step - 1e-9).rounded(.up)))
        let ticks = (0...count).map { Double($0) * step }
        var decimals = 0
        while decimals < 12 {
            let scaled = step * pow(10, Double(decimals))
            if abs(scaled - scaled.rounded()) < 1e-6 * max(1, scaled) { break }
            decimals += 1
        }
        return (Double(count) * step, ticks, decimals)
    }

    /// About three significant figures: enough to tell bars apart, few enough to fit on one.
    static func valueText(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude == 0 { return "0" }
        if magnitude >= 100 { return Figures.fixed(value, 0) }
        if magnitude >= 10 { return Figures.fixed(value, 1) }
        if magnitude >= 1 { return Figures.fixed(value, 2) }
        return String(format: "%.3g", value)
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }
}

/// The study's charts, named as the report links them.
public enum StudyCharts {
    public static func all(_ r: StudyResults) -> [(fileName: String, svg: String)] {
        guard !r.variants.isEmpty else { return [] }
        let labels = r.variants.map(\.studyName)
        let counts = StudyReport.threadCounts(r)
        let seriesNames = counts.map(Figures.threads)
        func byThreads(_ figure: (ThreadRun) -> Double) -> [SVGBarChart.Group] {
            r.variants.map { v in
                SVGBarChart.Group(label: v.studyName, values: counts.map { c in v.runs.first { $0.threads == c }.map(figure) })
            }
        }
        let request = "\(r.settings.promptTokens) prompt + \(r.settings.genTokens) generated tokens"

        var charts: [(fileName: String, svg: String)] = []
        charts.append(("size.svg", SVGBarChart(
            title: "Model file size", unit: "GB",
            bars: zip(labels, r.variants).map { ($0, Double($1.fileBytes) / 1e9) }
        ).render()))
        charts.append(("memory.svg", SVGBarChart(
            title: "Peak memory (RSS)", unit: "GB", series: [],
            groups: r.variants.map { .init(label: $0.studyName, values: [$0.runs.isEmpty ? nil : Double($0.peakRSSBytes) / 1e9]) }
        ).render()))
        charts.append(("latency.svg", SVGBarChart(
            title: "Standard request time (\(request))", unit: "s", series: seriesNames,
            groups: byThreads(\.requestSeconds)
        ).render()))
        charts.append(("decode.svg", SVGBarChart(
            title: "Decode speed", unit: "tokens/s", series: seriesNames, groups: byThreads(\.decodeTokensPerSecond)
        ).render()))
        if let chart = accuracyChart(r) { charts.append(("accuracy.svg", chart.render())) }
        return charts
    }

    /// Mean KL divergence per variant; a chart that says so when the weights are
    /// synthetic, and none when accuracy was not measured.
    static func accuracyChart(_ r: StudyResults) -> SVGBarChart? {
        let measured = r.variants.compactMap(\.accuracy)
        guard let first = measured.first else { return nil }
        let reference = r.variants.first { $0.type == first.reference }?.studyName ?? first.reference
        let title = "Mean KL divergence vs \(reference)"
        guard measured.allSatisfy(\.meaningful) else {
            return SVGBarChart(title: title, unit: "nats", bars: [], note: "n/a (synthetic weights)")
        }
        return SVGBarChart(title: title, unit: "nats", series: [], groups: r.variants.map {
            .init(label: $0.studyName, values: [$0.accuracy?.meanKLDivergence])
        })
    }
}
