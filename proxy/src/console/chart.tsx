import { scaleBand, scaleLinear } from "d3-scale";
import { stack } from "d3-shape";

/**
 * A stacked bar chart drawn on the server as SVG: d3-scale places the bars and ticks, d3-shape stacks the series
 * (both are DOM-free, so this runs on Node and Workers alike and the page needs no script). Colours come from the
 * stylesheet's classes, since the CSP allows no inline style attribute.
 */
export interface BarDatum {
  label: string;
  /** one value per series, by series key */
  values: Record<string, number>;
}

export interface StackedBarsProps {
  title: string;
  series: { key: string; label: string; className: string }[];
  data: BarDatum[];
  width?: number;
  height?: number;
  /** formats a tick value */
  format?: (n: number) => string;
}

export function StackedBars(props: StackedBarsProps) {
  const width = props.width ?? 960;
  const height = props.height ?? 260;
  const margin = { top: 12, right: 12, bottom: 28, left: 64 };
  const format = props.format ?? ((n: number) => n.toLocaleString("en-US"));
  const keys = props.series.map((s) => s.key);
  const layers = stack<BarDatum, string>()
    .keys(keys)
    .value((d, key) => d.values[key] ?? 0)(props.data);
  const max = Math.max(1, ...props.data.map((d) => keys.reduce((sum, k) => sum + (d.values[k] ?? 0), 0)));
  const x = scaleBand<string>()
    .domain(props.data.map((d) => d.label))
    .range([margin.left, width - margin.right])
    .padding(0.2);
  const y = scaleLinear()
    .domain([0, max])
    .nice()
    .range([height - margin.bottom, margin.top]);
  const every = Math.max(1, Math.ceil(props.data.length / 10));
  const titleId = `chart-${props.title.replace(/[^A-Za-z0-9]/g, "").slice(0, 20)}`;
  return (
    <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={titleId}>
      <title id={titleId}>{props.title}</title>
      {y.ticks(5).map((t) => (
        <g>
          <line class="axis" x1={margin.left} x2={width - margin.right} y1={y(t)} y2={y(t)} />
          <text x={margin.left - 6} y={y(t) + 4} text-anchor="end">
            {format(t)}
          </text>
        </g>
      ))}
      {layers.map((layer, i) => (
        <g class={props.series[i]?.className ?? ""}>
          {layer.map((point) => (
            <rect
              x={x(point.data.label) ?? 0}
              y={y(point[1])}
              width={x.bandwidth()}
              height={Math.max(0, y(point[0]) - y(point[1]))}
            >
              <title>{`${point.data.label} ${props.series[i]?.label ?? ""}: ${format(point[1] - point[0])}`}</title>
            </rect>
          ))}
        </g>
      ))}
      {props.data.map((d, i) =>
        i % every === 0 ? (
          <text x={(x(d.label) ?? 0) + x.bandwidth() / 2} y={height - 8} text-anchor="middle">
            {d.label.slice(5)}
          </text>
        ) : null,
      )}
    </svg>
  );
}
