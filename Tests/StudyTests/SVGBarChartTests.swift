import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Study
import Testing

/// The elements of a parsed document, in order, and whether it parsed at all.
final class SVGElements: NSObject, XMLParserDelegate {
    struct Element {
        var name: String
        var attributes: [String: String]
        var text = ""
    }

    private(set) var elements: [Element] = []
    private var open: [Int] = []

    static func parse(_ svg: String) -> [Element]? {
        let collector = SVGElements()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        return parser.parse() ? collector.elements : nil
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        open.append(elements.count)
        elements.append(Element(name: elementName, attributes: attributeDict))
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        open.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let index = open.last { elements[index].text += string }
    }
}

@Suite struct SVGBarChartTests {
    let sizes = SVGBarChart(title: "Model file size", unit: "GB",
                            bars: [(label: "FP16", value: 13.48), (label: "INT8", value: 7.16), (label: "INT4", value: 3.92)])

    func bars(_ elements: [SVGElements.Element]) -> [SVGElements.Element] {
        elements.filter { $0.name == "rect" && $0.attributes["class"] == "bar" }
    }

    @Test("a chart is a well-formed standalone SVG document")
    func parsesAsSVG() throws {
        let svg = sizes.render()
        let elements = try #require(SVGElements.parse(svg))
        let root = try #require(elements.first)
        #expect(root.name == "svg")
        #expect(root.attributes["xmlns"] == "http://www.w3.org/2000/svg")
        #expect(root.attributes["version"] == "1.1")
        #expect(root.attributes["viewBox"] != nil && root.attributes["width"] != nil && root.attributes["height"] != nil)
        #expect(!svg.contains("href"), "no external resources")
        #expect(elements.contains { $0.name == "text" && $0.text == "Model file size" })
        #expect(elements.contains { $0.name == "text" && $0.text == "GB" })
    }

    @Test("one rect per bar plus the background")
    func rectPerBar() throws {
        let elements = try #require(SVGElements.parse(sizes.render()))
        #expect(elements.filter { $0.name == "rect" }.count == 3 + 1)
        #expect(bars(elements).count == 3)
    }

    @Test("bar heights are proportional to the values")
    func proportionalHeights() throws {
        let elements = try #require(SVGElements.parse(sizes.render()))
        let heights = bars(elements).compactMap { $0.attributes["height"].flatMap(Double.init) }
        #expect(heights.count == 3)
        let values = [13.48, 7.16, 3.92]
        for i in 1..<3 {
            #expect(abs(heights[i] / heights[0] - values[i] / values[0]) < 0.002)
        }
        #expect(heights[0] > 100, "the tallest bar uses most of the plot")
    }

    @Test("every bar is labelled with its value")
    func valueLabels() throws {
        let texts = try #require(SVGElements.parse(sizes.render())).filter { $0.name == "text" }.map(\.text)
        for label in ["13.5", "7.16", "3.92", "FP16", "INT8", "INT4"] { #expect(texts.contains(label)) }
    }

    @Test("labels with markup characters are escaped and read back intact")
    func escapesLabels() throws {
        let chart = SVGBarChart(title: "A & B <test>", unit: "\"s\"", bars: [(label: "a<b&c", value: 1)])
        let svg = chart.render()
        #expect(svg.contains("a&lt;b&amp;c"))
        #expect(!svg.contains("a<b&c"))
        let elements = try #require(SVGElements.parse(svg))
        #expect(elements.contains { $0.name == "text" && $0.text == "a<b&c" })
        #expect(elements.contains { $0.name == "text" && $0.text == "A & B <test>" })
    }

    @Test("grouped series draw one bar per value, skip missing ones and add a legend")
    func groupedSeries() throws {
        let chart = SVGBarChart(title: "Request", unit: "s", series: ["1 thread", "2 threads"], groups: [
            .init(label: "FP16", values: [167.5, 89.6]),
            .init(label: "INT8", values: [85.4, nil]),
        ])
        let elements = try #require(SVGElements.parse(chart.render()))
        let drawn = bars(elements)
        #expect(drawn.count == 3)
        #expect(elements.filter { $0.name == "rect" }.count == 3 + 1)
        #expect(Set(drawn.compactMap { $0.attributes["fill"] }).count == 2, "series differ in colour")
        let texts = elements.filter { $0.name == "text" }.map(\.text)
        #expect(texts.contains("1 thread") && texts.contains("2 threads"))
        let single = try #require(SVGElements.parse(sizes.render()))
        #expect(!single.contains { $0.name == "circle" }, "no legend for one series")
    }

    @Test("the axis ends on a round tick at or above the largest value")
    func niceAxis() throws {
        for (largest, top) in [(13.48, 15.0), (7.16, 8.0), (0.148, 0.15), (167.5, 200.0), (1.0, 1.0)] {
            let chart = SVGBarChart(title: "t", unit: "u", bars: [(label: "x", value: largest)])
            let elements = try #require(SVGElements.parse(chart.render()))
            let ticks = elements.filter { $0.name == "text" && $0.attributes["text-anchor"] == "end" }
                .compactMap { Double($0.text.replacingOccurrences(of: ",", with: "")) }
            #expect(ticks.first == 0)
            #expect(ticks.last.map { abs($0 - top) < 1e-9 } == true, "top tick for \(largest): \(ticks)")
            #expect((4...8).contains(ticks.count), "\(ticks.count) ticks for \(largest)")
        }
    }

    @Test("the study's charts cover size, memory, latency, decode and accuracy")
    func studyCharts() throws {
        let charts = StudyCharts.all(StudyFixtures.results())
        #expect(charts.map(\.fileName) == ["size.svg", "memory.svg", "latency.svg", "decode.svg", "accuracy.svg"])
        for chart in charts { #expect(SVGElements.parse(chart.svg) != nil, "\(chart.fileName) parses") }
        let latency = try #require(charts.first { $0.fileName == "latency.svg" })
        #expect(bars(try #require(SVGElements.parse(latency.svg))).count == 6)
    }

    @Test("with synthetic weights the accuracy chart says n/a and draws no bars")
    func syntheticAccuracyChart() throws {
        let charts = StudyCharts.all(StudyFixtures.results(synthetic: true))
        let accuracy = try #require(charts.first { $0.fileName == "accuracy.svg" })
        let elements = try #require(SVGElements.parse(accuracy.svg))
        #expect(elements.contains { $0.text == "n/a (synthetic weights)" })
        #expect(bars(elements).isEmpty)

        var unmeasured = StudyFixtures.results()
        for i in unmeasured.variants.indices { unmeasured.variants[i].accuracy = nil }
        #expect(!StudyCharts.all(unmeasured).contains { $0.fileName == "accuracy.svg" })
    }
}
